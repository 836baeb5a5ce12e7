import { readSessionRecords } from '../../audit/reader.js';
import { summarizeRecord } from '../../audit/replay-summary.js';
import type { Command } from '../command.js';
import { UsageError } from '../usage-error.js';
import { findSession, openAuditReadOnly } from './audit-access.js';

export const replayCommand: Command = {
  summary: 'print a recorded session step by step (masked as stored)',
  usage: 'gatehouse replay SESSION [--json]',
  options: { json: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    const [id, ...extra] = positionals;
    if (!id || extra.length) throw new UsageError('name one session (its id or the start of it, as `gatehouse sessions` shows)');
    const { dir, index } = await openAuditReadOnly(io);
    const session = findSession(index, id);
    const records = readSessionRecords(dir, index, session.id);
    if (values.json) return void io.out(JSON.stringify({ ...session, records }, null, 2));
    const start = Date.parse(records[0]?.ts ?? session.first);
    io.out(`Session ${session.id} on ${session.server} — ${session.client.name ?? 'unknown client'} ${session.client.version ?? ''} — ${session.principal} — ${session.first} — ${records.length} records`);
    for (const r of records) {
      const offset = `+${((Date.parse(r.ts) - start) / 1000).toFixed(3)}s`.padStart(10);
      io.out(`${offset}  ${`#${r.seq}`.padEnd(7)} ${summarizeRecord(r)}`);
    }
  },
};

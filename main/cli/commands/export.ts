import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportCsv, exportJsonl } from '../../audit/export.js';
import { HEAD_FILE, listSegments, PUBLIC_KEY_FILE } from '../../audit/segment-files.js';
import { parsePublicKey, publicKeyHex } from '../../audit/signing.js';
import { readMark } from '../../audit/segment-writer.js';
import type { Command } from '../command.js';
import { parseTime, stringOption } from '../options.js';
import { UsageError } from '../usage-error.js';
import { findSession, openAuditReadOnly } from './audit-access.js';

export const exportCommand: Command = {
  summary: 'write evidence for auditors: records with their hashes, checkable on their own (`gatehouse verify --export FILE`)',
  usage: 'gatehouse export [--format jsonl|csv] [--since T] [--until T] [--session ID] [--out FILE]',
  options: { format: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, session: { type: 'string' }, out: { type: 'string' } },
  async run({ values }, io) {
    const format = stringOption(values.format) ?? 'jsonl';
    if (format !== 'jsonl' && format !== 'csv') throw new UsageError(`--format is jsonl or csv, not "${format}"`);
    const since = parseTime(values.since, '--since');
    const until = parseTime(values.until, '--until');
    const { dir, index } = await openAuditReadOnly(io);
    const sessionArg = stringOption(values.session);
    const session = sessionArg ? findSession(index, sessionArg).id : undefined;
    const filter = { since, until, session };
    // A session export walks every segment from its first to the newest, so omitted runs between its records stay
    // linked and the run at the end reaches the head mark (which shows whether the tail is all there).
    const all = listSegments(dir);
    const span = session ? index.get(session)?.segments ?? [] : all;
    const segmentNames = all.filter((n) => span.length > 0 && n >= (span[0] as string));
    const segments = (function* () {
      for (const n of segmentNames) yield readFileSync(join(dir, n));
    })();
    const chunks = format === 'csv' ? exportCsv(segments, filter) : exportJsonl(segments, filter, { createdAt: new Date().toISOString(), head: readMark(join(dir, HEAD_FILE)), publicKey: logPublicKey(dir) });
    const out = stringOption(values.out);
    if (!out) {
      for (const chunk of chunks) process.stdout.write(chunk);
      return;
    }
    const stream = createWriteStream(out, { mode: 0o600 });
    for (const chunk of chunks) if (!stream.write(chunk)) await new Promise<void>((r) => stream.once('drain', () => r()));
    await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
    io.err(`gatehouse export: wrote ${out}`);
  },
};

/** The public key the gateway wrote beside its log, as hex for the export's header; undefined when there is none yet. */
function logPublicKey(dir: string): string | undefined {
  try {
    return publicKeyHex(parsePublicKey(join(dir, PUBLIC_KEY_FILE)));
  } catch {
    return undefined;
  }
}

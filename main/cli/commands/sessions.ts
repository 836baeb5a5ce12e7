import type { Command } from '../command.js';
import { parseTime, stringOption } from '../options.js';
import { openAuditReadOnly } from './audit-access.js';

export const sessionsCommand: Command = {
  summary: 'list recorded sessions, newest first',
  usage: 'gatehouse sessions [--json] [--server S] [--since T] [--principal P]',
  options: { json: { type: 'boolean' }, server: { type: 'string' }, since: { type: 'string' }, principal: { type: 'string' } },
  async run({ values }, io) {
    const since = parseTime(values.since, '--since');
    const server = stringOption(values.server);
    // Who: the signed-in user as records carry them (alice@example.com), or local:<os-user>; a glob works (*@example.com).
    const principal = stringOption(values.principal);
    const who = principal === undefined ? undefined : new RegExp(`^${principal.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');
    const { index } = await openAuditReadOnly(io);
    const sessions = index.list().filter((s) => (server === undefined || s.server === server) && (since === undefined || Date.parse(s.last) >= since) && (who === undefined || who.test(s.principal)));
    if (values.json) return void io.out(JSON.stringify(sessions, null, 2));
    if (sessions.length === 0) return void io.out('No recorded sessions match.');
    const rows = sessions.map((s) => [
      s.id.slice(0, 8),
      s.first.replace('T', ' ').slice(0, 19),
      duration(Date.parse(s.last) - Date.parse(s.first)),
      s.server,
      `${s.client.name ?? '?'} ${s.client.version ?? ''}`.trim(),
      s.principal,
      String(s.calls),
      String(s.errors),
      String(s.records),
      s.excluded ? 'excluded' : s.ended ? '' : s.asleep ? 'open, asleep' : 'open',
    ]);
    io.out(table(['SESSION', 'STARTED (UTC)', 'SPAN', 'SERVER', 'CLIENT', 'PRINCIPAL', 'CALLS', 'ERRORS', 'RECORDS', ''], rows));
  },
};

function duration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
  return `${Math.floor(ms / 3_600_000)}h${Math.round((ms % 3_600_000) / 60_000)}m`;
}

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

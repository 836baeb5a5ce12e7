import { existsSync } from 'node:fs';
import { auditDirOf } from '../../audit/segment-files.js';
import { SessionIndex, type SessionSummary } from '../../audit/session-index.js';
import type { CliIo } from '../io.js';
import { dataDirFor } from '../options.js';
import { UsageError } from '../usage-error.js';

/** The audit folder of this data directory and its session index, read-only (the gateway owns writing). */
export async function openAuditReadOnly(io: CliIo): Promise<{ dir: string; index: SessionIndex }> {
  const dir = auditDirOf(dataDirFor(io));
  if (!existsSync(dir)) throw new UsageError(`nothing is recorded yet in ${dir}: start the gateway and connect a client`);
  return { dir, index: await SessionIndex.load(dir, { persist: false }) };
}

/** A session by its id or a unique prefix of it. */
export function findSession(index: SessionIndex, idOrPrefix: string): SessionSummary {
  const exact = index.get(idOrPrefix);
  if (exact) return exact;
  const matches = index.list().filter((s) => s.id.startsWith(idOrPrefix));
  if (matches.length === 1) return matches[0] as SessionSummary;
  if (matches.length === 0) throw new UsageError(`no recorded session "${idOrPrefix}"; \`gatehouse sessions\` lists them`);
  throw new UsageError(`"${idOrPrefix}" matches ${matches.length} sessions (${matches.slice(0, 3).map((m) => m.id.slice(0, 8)).join(', ')}…); give more of the id`);
}

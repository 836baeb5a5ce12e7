import { createWriteStream, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { exportCsv, exportJsonl } from '../../audit/export.js';
import { ANCHOR_FILE, HEAD_FILE, listSegments, PUBLIC_KEY_FILE, segmentFirstSeq } from '../../audit/segment-files.js';
import { parsePublicKey, publicKeyHex, signingKeyFrom, type SigningKey } from '../../audit/signing.js';
import { readAuditKey } from '../../audit/checkpoint.js';
import { verifyAuditDir } from '../../audit/verify-files.js';
import { isGatewayRunning } from '../../config/instance-lock.js';
import { dataDirFor } from '../options.js';
import type { CliIo } from '../io.js';
import { readMark } from '../../audit/segment-writer.js';
import type { Command } from '../command.js';
import { parseTime, stringOption } from '../options.js';
import { UsageError } from '../usage-error.js';
import { findSession, openAuditReadOnly } from './audit-access.js';

export const exportCommand: Command = {
  summary: 'write evidence for auditors: records with their hashes, checkable on their own (`gatehouse verify --export FILE`)',
  usage: 'gatehouse export [--format jsonl|csv] [--since T] [--until T] [--session ID] [--out FILE [--json]]',
  options: { format: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, session: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values }, io) {
    if (values.json && stringOption(values.out) === undefined) throw new UsageError('--json reports what was written to --out FILE; without --out, stdout is the export itself');
    const format = stringOption(values.format) ?? 'jsonl';
    if (format !== 'jsonl' && format !== 'csv') throw new UsageError(`--format is jsonl or csv, not "${format}"`);
    const since = parseTime(values.since, '--since');
    const until = parseTime(values.until, '--until');
    const { dir, index } = await openAuditReadOnly(io);
    const sessionArg = stringOption(values.session);
    const session = sessionArg ? findSession(index, sessionArg).id : undefined;
    const filter = { since, until, session };
    // Every export walks the whole log, whatever the filter: which records it keeps is read from the log itself
    // (never from the index, which is derived and can be edited), runs left out stand as omitted runs from the
    // log's first record to its newest, and the head mark shows whether the tail is all there.
    // Segments the anchor covers were pruned (one left behind by a crash, or planted, is not part of the log).
    const anchor = readMark(join(dir, ANCHOR_FILE));
    const segmentNames = listSegments(dir).filter((n) => !anchor || (segmentFirstSeq(n) ?? 0) > anchor.seq);
    const segments = (function* () {
      for (const n of segmentNames) yield readFileSync(join(dir, n));
    })();
    const counts = { records: 0 };
    const signing = format === 'jsonl' ? await exportSigning(dir, io) : { note: '' };
    const chunks =
      format === 'csv'
        ? exportCsv(segments, filter, counts)
        : exportJsonl(segments, filter, { createdAt: new Date().toISOString(), head: readMark(join(dir, HEAD_FILE)), anchor, publicKey: logPublicKey(dir), signer: signing.signer, throughSeq: signing.throughSeq }, counts);
    const out = stringOption(values.out);
    if (out) checkWritable(out);
    if (!out) {
      for (const chunk of chunks) process.stdout.write(chunk);
      if (signing.note) io.err(`gatehouse export: ${signing.note}`);
      return;
    }
    const stream = createWriteStream(out, { mode: 0o600 });
    const failed = new Promise<never>((_, reject) => stream.once('error', (err) => reject(new UsageError(`cannot write ${out}: ${(err as NodeJS.ErrnoException).code === 'EACCES' ? 'permission denied' : err.message}`))));
    const written = (async () => {
      for (const chunk of chunks) if (!stream.write(chunk)) await new Promise<void>((r) => stream.once('drain', () => r()));
      await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
    })();
    await Promise.race([written, failed]);
    if (values.json) {
      return void io.out(JSON.stringify({ out: resolve(out), format, records: counts.records, signed: signing.signer !== undefined, ...(signing.note ? { note: signing.note } : {}) }, null, 2));
    }
    const n = `${counts.records} record${counts.records === 1 ? '' : 's'}`;
    io.err(`gatehouse export: wrote ${out} (${n}${signing.signer ? ', signed' : ''}${counts.records === 0 ? '; nothing matched the filter' : ''})${signing.note ? `; ${signing.note}` : ''}`);
  },
};

/** Refuses, before anything is read, an --out that cannot be written: a folder, or a file in a folder that is not there. */
function checkWritable(out: string): void {
  const dir = dirname(resolve(out));
  if (existsSync(out) && statSync(out).isDirectory()) throw new UsageError(`--out ${out} is a folder: give a file name (e.g. ${join(out, 'gatehouse-export.jsonl')})`);
  if (!existsSync(dir)) throw new UsageError(`--out ${out}: the folder ${dir} does not exist; create it first`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`--out ${out}: ${dir} is not a folder`);
}

/** The public key the gateway wrote beside its log, as hex for the export's header; undefined when there is none yet. */
function logPublicKey(dir: string): string | undefined {
  try {
    return publicKeyHex(parsePublicKey(join(dir, PUBLIC_KEY_FILE)));
  } catch {
    return undefined;
  }
}

/**
 * Whether this export can be signed: only with the key, and only what the key vouches for (the log verified
 * first, up to its last vouched record). A recorded break does not stop the signature: the break record is
 * in the export, and keeps it failing wherever it is checked.
 */
async function exportSigning(dir: string, io: CliIo): Promise<{ signer?: SigningKey; throughSeq?: number; note: string }> {
  const key = readAuditKey(dataDirFor(io));
  if (!key) return { note: 'not signed: the audit key is not here (the desktop app keeps it in the keychain); records are vouched for by the signatures in the log where their runs reach one' };
  const report = verifyAuditDir(dir, { key, live: await isGatewayRunning(dataDirFor(io)) });
  if (!report.ok && report.problem?.reason !== 'break-recorded') {
    return { note: `not signed: the log does not verify (${report.problem?.reason}: ${report.problem?.message}); \`gatehouse verify\` says more` };
  }
  return { signer: signingKeyFrom(key), throughSeq: report.unvouchedTail ? report.unvouchedTail.fromSeq - 1 : report.lastSeq, note: '' };
}

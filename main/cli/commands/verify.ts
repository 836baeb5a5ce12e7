import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readAuditKey } from '../../audit/checkpoint.js';
import { checkExport, type ExportCheck } from '../../audit/export-check.js';
import { auditDirOf, PUBLIC_KEY_FILE } from '../../audit/segment-files.js';
import { parsePublicKey, PublicKeyError, publicKeyHex, publicKeyPem, signingKeyFrom } from '../../audit/signing.js';
import { verifyAuditDir } from '../../audit/verify-files.js';
import type { VerifyReport } from '../../audit/verify.js';
import { isGatewayRunning } from '../../config/instance-lock.js';
import { readRuntimeInfo } from '../../config/runtime-file.js';
import type { Command } from '../command.js';
import { callVerb } from '../gateway-client.js';
import type { CliIo } from '../io.js';
import { dataDirFor, stringOption } from '../options.js';
import { CheckFailed, UsageError } from '../usage-error.js';

export const verifyCommand: Command = {
  summary: 'check the whole audit log (or an export with --export FILE); exit 1 with the first broken record, and for as long as the log holds a recorded break',
  usage: 'gatehouse verify [--json] [--export FILE] [--public-key KEY] [--chain-only]',
  options: { json: { type: 'boolean' }, export: { type: 'string' }, 'public-key': { type: 'string' }, 'chain-only': { type: 'boolean' } },
  async run({ values }, io) {
    const chainOnly = values['chain-only'] === true;
    const given = stringOption(values['public-key']);
    const publicKey = given ? publicKeyFrom(given) : undefined;
    const exportFile = stringOption(values.export);
    if (exportFile) return verifyExport(exportFile, publicKey, chainOnly, values.json === true, io);

    const dataDir = dataDirFor(io);
    const key = publicKey ? undefined : readAuditKey(dataDir);
    if (!key && !publicKey && readRuntimeInfo(dataDir) && (await isGatewayRunning(dataDir))) {
      // The desktop app keeps the key in the OS keychain: ask it to verify with its key (only a gateway that
      // holds the data directory's lock; a gateway.json alone says nothing).
      const res = await callVerb(dataDir, 'verify');
      const r = res.body;
      if (values.json) io.out(JSON.stringify(r, null, 2));
      else if (r.ok) io.out(`Audit log intact, as checked by the running gateway with its key (pid ${readRuntimeInfo(dataDir)?.pid ?? '?'}): ${r.records.toLocaleString('en')} records in ${r.segments} segment(s), ${r.checkpointsChecked} checkpoint(s). For evidence that does not rest on this machine, check an export with the public key.`);
      if (!r.ok && r.problem) throw new CheckFailed(`BROKEN at ${r.problem.segment}${r.problem.seq !== undefined ? `, record ${r.problem.seq}` : ''}${r.problem.line ? `, line ${r.problem.line}` : ''}: ${r.problem.reason}: ${r.problem.message}`);
      return;
    }
    const progress = !values.json && process.stderr.isTTY ? progressBar() : undefined;
    const started = performance.now();
    const report = await settledVerify(auditDirOf(dataDir), { key, publicKey, ...(progress ? { onProgress: progress.update } : {}) }, () => isGatewayRunning(dataDir));
    progress?.done();
    const seconds = (performance.now() - started) / 1000;
    if (values.json) io.out(JSON.stringify({ ...report, seconds: Number(seconds.toFixed(3)) }, null, 2));
    if (report.ok && !key && !publicKey && report.records > 0 && !chainOnly) {
      // Without the key, a forger's records look as good as the gateway's: that is not "intact".
      throw new CheckFailed(
        `the audit key (${dataDir}/audit.key) is missing, so the checkpoints, commit marks and head mark cannot be checked: the log is not shown intact. Restore the key, pass --public-key KEY to check the signatures, or --chain-only to check hashes and order alone`,
      );
    }
    if (!values.json && report.ok) {
      io.out(
        `Audit log intact: ${report.records.toLocaleString('en')} records in ${report.segments} segment(s), ${(report.bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(2)}s; ` +
          (key
            ? `${report.checkpointsChecked} checkpoint(s), the commit marks, ${report.signaturesChecked} signature(s) and the head mark checked with the key.`
            : publicKey
              ? `${report.signaturesChecked} signature(s) checked with the public key; ${pastSignature(report)}`
              : 'hashes and order only (--chain-only): without audit.key, checkpoints and commit marks were not checked.') +
          (report.incompleteTail ? ' The newest segment ends in an unacknowledged partial line (a write in progress, or a crash the next start repairs).' : ''),
      );
    }
    if (!report.ok && report.problem) {
      const p = report.problem;
      const breaks = report.breaks.length > 1 ? `\n${report.breaks.map((b) => `  break at record ${b.seq} (${b.ts}): ${b.reason}: ${b.message}`).join('\n')}` : '';
      throw new CheckFailed(`BROKEN at ${p.segment}${p.seq !== undefined ? `, record ${p.seq}` : ''}${p.line ? `, line ${p.line}` : ''}: ${p.reason}: ${p.message}${breaks}`);
    }
  },
};

export const publicKeyCommand: Command = {
  summary: "print the audit log's public key (PEM; --json adds the 64-hex form): give it to your auditors once, then `gatehouse verify --export FILE --public-key KEY` needs no secret",
  usage: 'gatehouse public-key [--json]',
  options: { json: { type: 'boolean' } },
  async run({ values }, io) {
    const dataDir = dataDirFor(io);
    const key = readAuditKey(dataDir);
    let publicKey: KeyObject;
    try {
      publicKey = key ? signingKeyFrom(key).publicKey : parsePublicKey(join(auditDirOf(dataDir), PUBLIC_KEY_FILE));
    } catch {
      throw new CheckFailed(`no audit log key in ${dataDir} yet: start Gatehouse once (gatehouse serve, or the desktop app) and it makes one`);
    }
    if (!key) {
      // Without the key (the desktop's is in the keychain) this is only the copy beside the log, which anyone
      // who can write the data directory can replace: say so, and where the key itself is shown.
      io.err(
        `gatehouse public-key: read from ${join(auditDirOf(dataDir), PUBLIC_KEY_FILE)}, which this command cannot vouch for (anyone who can write the data directory can replace it). Compare it with the key the Gatehouse app shows under Integrity before you hand it to an auditor.`,
      );
    }
    if (values.json) io.out(JSON.stringify({ pem: publicKeyPem(publicKey), hex: publicKeyHex(publicKey) }, null, 2));
    else io.out(publicKeyPem(publicKey).trimEnd());
  },
};

function publicKeyFrom(given: string): KeyObject {
  try {
    return parsePublicKey(given);
  } catch (err) {
    if (err instanceof PublicKeyError) throw new UsageError(`--public-key: ${err.message}`);
    throw err;
  }
}

async function verifyExport(file: string, given: KeyObject | undefined, chainOnly: boolean, json: boolean, io: CliIo): Promise<void> {
  let text: Buffer;
  try {
    text = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`--export ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a folder, not an export file' : (err as Error).message}`);
  }
  // The user's own key where it is here (their own export); an auditor passes the public key they were given.
  const own = readAuditKey(dataDirFor(io));
  const publicKey = given ?? (own ? signingKeyFrom(own).publicKey : undefined);
  if (!publicKey && !chainOnly) {
    throw new CheckFailed(
      `${file}: no public key to check its signatures with, so it is not shown intact (anyone can chain SHA-256 hashes). Pass --public-key KEY (the key \`gatehouse public-key\` printed where the log was written), or --chain-only to check hashes and order alone`,
    );
  }
  const check = checkExport(text, publicKey);
  if (json) io.out(JSON.stringify(check, null, 2));
  else if (check.ok) {
    io.out(
      `Export intact: ${check.records} records (seq ${check.firstSeq ?? '-'}–${check.lastSeq ?? '-'}), ${check.omittedRuns} omitted run(s) linked by hash; ` +
        (publicKey ? `${check.signaturesChecked} signature(s) checked: ${exportCoverage(check)}` : 'hashes and order only (--chain-only): no signature was checked.'),
    );
  }
  if (!check.ok && check.problem) {
    const breaks = check.breaks.length > 1 ? `\n${check.breaks.map((b) => `  break at record ${b.seq} (${b.ts}): ${b.reason}: ${b.message}`).join('\n')}` : '';
    throw new CheckFailed(`${file}:${check.problem.line}: ${check.problem.reason}: ${check.problem.message}${breaks}`);
  }
}

/** What a log being written can show for a moment (a batch mid-write, the first head mark not yet written), and nothing else can. */
const TRANSIENT = new Set(['unvouched', 'missing-head', 'torn']);

/**
 * Verifies as strictly as a stopped log, whatever is running. Where a gateway holds the lock and the log shows
 * what a batch being written shows, it looks again a few times (a real batch is vouched for in milliseconds);
 * records that stay unvouched, or a head mark that stays missing, fail. A process merely claiming to be the
 * gateway gains nothing: it can only make verify wait.
 */
async function settledVerify(dir: string, options: Parameters<typeof verifyAuditDir>[1], running: () => Promise<boolean>): Promise<ReturnType<typeof verifyAuditDir>> {
  let report = verifyAuditDir(dir, options);
  for (let attempt = 0; attempt < 5 && !report.ok && TRANSIENT.has(report.problem?.reason ?? '') && (await running()); attempt++) {
    await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
    report = verifyAuditDir(dir, options);
  }
  return report;
}

function pastSignature(report: VerifyReport): string {
  const past = report.lastSeq - report.signedThrough;
  return past > 0
    ? `${past.toLocaleString('en')} record(s) after record ${report.signedThrough} lie past the last signature, vouched only by the commit marks' HMAC (which needs the key).`
    : 'every record is vouched for by a signature.';
}

function exportCoverage(check: ExportCheck): string {
  return check.unsignedRecords > 0
    ? `${check.signedRecords} record(s) vouched for by a signature; ${check.unsignedRecords} lie past the last signature of their run (or before an omitted run), vouched only by the HMAC, which needs the key.`
    : 'every record is vouched for by a signature.';
}

function progressBar(): { update: (done: number, total: number) => void; done: () => void } {
  let last = 0;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const width = 30;
      const filled = total ? Math.round((done / total) * width) : width;
      process.stderr.write(`\rverifying [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${((done / Math.max(total, 1)) * 100).toFixed(0)}%`);
    },
    done() {
      process.stderr.write('\r\x1b[K');
    },
  };
}

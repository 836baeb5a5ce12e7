import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IntegrityReport } from '../../api/types.js';
import { readAuditKey } from '../../audit/checkpoint.js';
import { checkExport, type ExportCheck } from '../../audit/export-check.js';
import { auditDirOf, PUBLIC_KEY_FILE } from '../../audit/segment-files.js';
import { parsePublicKey, PublicKeyError, publicKeyHex, publicKeyPem, signingKeyFrom } from '../../audit/signing.js';
import { verifyAuditDir } from '../../audit/verify-files.js';
import type { VerifyReport } from '../../audit/verify.js';
import { isGatewayRunning } from '../../config/instance-lock.js';
import { readRuntimeInfo } from '../../config/runtime-file.js';
import type { Command } from '../command.js';
import { callGateway } from '../gateway-client.js';
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
    if (!key && !publicKey && readRuntimeInfo(dataDir)) {
      // The desktop app keeps the key in the OS keychain: ask it to verify with its key.
      const res = await callGateway<IntegrityReport>(dataDir, 'POST', '/api/verify', {});
      const r = res.body;
      if (values.json) io.out(JSON.stringify(r, null, 2));
      else if (r.ok) io.out(`Audit log intact (checked by the running gateway with its key): ${r.records.toLocaleString('en')} records in ${r.segments} segment(s), ${r.checkpointsChecked} checkpoint(s).`);
      if (!r.ok && r.problem) throw new CheckFailed(`BROKEN at ${r.problem.segment}${r.problem.seq !== undefined ? `, record ${r.problem.seq}` : ''}${r.problem.line ? `, line ${r.problem.line}` : ''}: ${r.problem.reason}: ${r.problem.message}`);
      return;
    }
    const progress = !values.json && process.stderr.isTTY ? progressBar() : undefined;
    const started = performance.now();
    const report = verifyAuditDir(auditDirOf(dataDir), { key, publicKey, live: await isGatewayRunning(dataDir), ...(progress ? { onProgress: progress.update } : {}) });
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
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
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

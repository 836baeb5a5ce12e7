import { readFileSync } from 'node:fs';
import type { IntegrityReport } from '../../api/types.js';
import { readAuditKey } from '../../audit/checkpoint.js';
import { isGatewayRunning } from '../../config/instance-lock.js';
import { readRuntimeInfo } from '../../config/runtime-file.js';
import { callGateway } from '../gateway-client.js';
import { checkExport } from '../../audit/export.js';
import { auditDirOf } from '../../audit/segment-files.js';
import { verifyAuditDir } from '../../audit/verify-files.js';
import type { Command } from '../command.js';
import { dataDirFor, stringOption } from '../options.js';
import { CheckFailed } from '../usage-error.js';

export const verifyCommand: Command = {
  summary: 'check the whole audit log (or an export with --export FILE); exit 1 with the first broken record, and for as long as the log holds a recorded break',
  usage: 'gatehouse verify [--json] [--export FILE] [--chain-only]',
  options: { json: { type: 'boolean' }, export: { type: 'string' }, 'chain-only': { type: 'boolean' } },
  async run({ values }, io) {
    const exportFile = stringOption(values.export);
    if (exportFile) {
      const check = checkExport(readFileSync(exportFile, 'utf8'));
      if (values.json) io.out(JSON.stringify(check, null, 2));
      else if (check.ok) io.out(`Export intact: ${check.records} records (seq ${check.firstSeq ?? '-'}–${check.lastSeq ?? '-'}), ${check.omittedRuns} omitted run(s) linked by hash; last hash ${check.lastHash ?? '-'}`);
      if (!check.ok) throw new CheckFailed(`${exportFile}:${check.problem?.line}: ${check.problem?.message}`);
      return;
    }
    const dataDir = dataDirFor(io);
    const key = readAuditKey(dataDir);
    if (!key && readRuntimeInfo(dataDir)) {
      // The desktop app keeps the key in the OS keychain: ask it to verify with its key.
      const res = await callGateway<IntegrityReport>(dataDir, 'POST', '/api/verify', {});
      const r = res.body;
      if (values.json) io.out(JSON.stringify(r, null, 2));
      else if (r.ok) io.out(`Audit log intact (checked by the running gateway with its key): ${r.records.toLocaleString('en')} records in ${r.segments} segment(s), ${r.checkpointsChecked} checkpoint(s).`);
      if (!r.ok && r.problem) throw new CheckFailed(`BROKEN at ${r.problem.segment}${r.problem.seq !== undefined ? `, record ${r.problem.seq}` : ''}${r.problem.line ? `, line ${r.problem.line}` : ''}: ${r.problem.reason}: ${r.problem.message}`);
      return;
    }
    const chainOnly = values['chain-only'] === true;
    const progress = !values.json && process.stderr.isTTY ? progressBar() : undefined;
    const started = performance.now();
    const report = verifyAuditDir(auditDirOf(dataDir), { key, live: await isGatewayRunning(dataDir), ...(progress ? { onProgress: progress.update } : {}) });
    progress?.done();
    const seconds = (performance.now() - started) / 1000;
    if (values.json) io.out(JSON.stringify({ ...report, seconds: Number(seconds.toFixed(3)) }, null, 2));
    if (report.ok && !key && report.records > 0 && !chainOnly) {
      // Without the key, a forger's records look as good as the gateway's: that is not "intact".
      throw new CheckFailed(
        `the audit key (${dataDir}/audit.key) is missing, so the checkpoints, commit marks and head mark cannot be checked: the log is not shown intact. Restore the key, or pass --chain-only to check hashes and order alone`,
      );
    }
    if (!values.json && report.ok) {
      io.out(
        `Audit log intact: ${report.records.toLocaleString('en')} records in ${report.segments} segment(s), ${(report.bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(2)}s; ` +
          (key ? `${report.checkpointsChecked} checkpoint(s), the commit marks and the head mark checked with the key.` : 'hashes and order only (--chain-only): without audit.key, checkpoints and commit marks were not checked.') +
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

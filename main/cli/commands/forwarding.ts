import { join } from 'node:path';
import type { ForwardingStatus } from '../../api/types.js';
import { readAuditKey } from '../../audit/checkpoint.js';
import { HEAD_FILE, auditDirOf } from '../../audit/segment-files.js';
import { readMark } from '../../audit/segment-writer.js';
import { resolveDataDir } from '../../config/data-dir.js';
import { isGatewayRunning } from '../../config/instance-lock.js';
import { configPath, loadConfigFile } from '../../config/load.js';
import { readCursor } from '../../forwarding/cursor.js';
import type { Command } from '../command.js';
import { callVerb } from '../gateway-client.js';
import { stringOption } from '../options.js';
import { CheckFailed } from '../usage-error.js';

export const forwardingCommand: Command = {
  summary: 'the forwarding of the audit log to the collector: endpoint, lag (records, seconds), last success, last error',
  usage: 'gatehouse forwarding [--json]',
  options: { json: { type: 'boolean' } },
  async run({ values }, io) {
    const dataDir = resolveDataDir(io.env);
    let status: ForwardingStatus;
    let running = false;
    if (await isGatewayRunning(dataDir)) {
      running = true;
      status = (await callVerb(dataDir, 'status')).body.forwarding ?? { enabled: false, forwardedSeq: 0, committedSeq: 0, lagRecords: 0, lagSeconds: 0 };
    } else {
      // No gateway: what the cursor and the head mark say (nothing is being sent now).
      const settings = loadConfigFile(configPath(dataDir, stringOption(values.config)), { create: false }).forwarding;
      let cursor: Awaited<ReturnType<typeof readCursor>>;
      let unusable: string | undefined;
      try {
        cursor = await readCursor(dataDir, readAuditKey(dataDir));
      } catch (err) {
        unusable = `forwarding will stop when the gateway starts: ${(err as Error).message}; move it aside to forward the whole log again`;
      }
      const committedSeq = readMark(join(auditDirOf(dataDir), HEAD_FILE))?.seq ?? 0;
      status = {
        enabled: settings !== undefined,
        ...(settings ? { endpoint: settings.endpoint, encoding: settings.encoding } : {}),
        forwardedSeq: cursor?.seq ?? 0,
        committedSeq,
        lagRecords: Math.max(0, committedSeq - (cursor?.seq ?? 0)),
        lagSeconds: 0,
        ...(cursor?.at ? { lastSuccessAt: new Date(cursor.at).toISOString() } : {}),
        ...(unusable ? { warning: unusable } : {}),
      };
    }
    if (values.json) io.out(JSON.stringify({ running, ...status }, null, 2));
    else if (!status.enabled) io.out('Forwarding is off: add `forwarding: { endpoint: https://…:4318/v1/logs }` to gatehouse.yaml to send the audit log to your collector.');
    else {
      io.out(`Forwarding to ${status.endpoint} (OTLP/HTTP, ${status.encoding})${running ? '' : ' — no gateway is running, so nothing is being sent now'}`);
      io.out(`  forwarded through seq ${status.forwardedSeq} of ${status.committedSeq}: ${status.lagRecords} record(s) behind${status.lagSeconds ? `, the oldest waiting ${status.lagSeconds}s` : ''}`);
      io.out(`  last success: ${status.lastSuccessAt ?? 'never'}`);
      if (status.lastError) io.out(`  last error:   ${status.lastErrorAt} ${status.lastError}`);
      if (status.pruned) io.out(`  note: ${status.pruned}`);
    }
    if (status.warning) throw new CheckFailed(status.warning);
  },
};

import { userInfo } from 'node:os';
import type { GatehouseConfig } from '../config/schema.js';
import type { Gateway } from '../gateway/gateway.js';
import { loadOrCreateAuditKey } from './checkpoint.js';
import { Recorder } from './recorder.js';
import { auditDirOf } from './segment-files.js';
import { AuditLog } from './segment-writer.js';
import { SessionIndex } from './session-index.js';

export interface OpenAudit {
  log: AuditLog;
  index: SessionIndex;
  dir: string;
  close(): Promise<void>;
}

/** The principal before sign-in (step 6 replaces it with the OIDC identity). */
export function localPrincipal(): string {
  try {
    return `local:${userInfo().username}`;
  } catch {
    return 'local:unknown';
  }
}

/** Opens the audit log (repairing a torn tail), catches the session index up, and puts the recorder first in the gateway's pipeline. */
export async function openAudit(dataDir: string, config: GatehouseConfig, gateway: Gateway): Promise<OpenAudit> {
  const dir = auditDirOf(dataDir);
  const log = await AuditLog.open({
    dir,
    key: loadOrCreateAuditKey(dataDir),
    segmentSize: config.recording.segmentSize,
    retention: config.recording.retention ?? {},
  });
  const index = await SessionIndex.load(dir);
  log.onPrune = (segments) => index.forgetSegments(segments);
  log.onCommit = (records) => {
    for (const r of records) index.apply(r);
    index.schedulePersist();
  };
  const principal = localPrincipal();
  const recorder = new Recorder({ log, principal: () => principal, exclude: () => config.recording.exclude });
  recorder.attach(gateway.events);
  gateway.setInterceptors([recorder]);
  return {
    log,
    index,
    dir,
    close: async () => {
      await log.close();
      await index.persistNow();
    },
  };
}

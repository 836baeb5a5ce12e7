import { userInfo } from 'node:os';
import type { LiveConfig } from '../config/live-config.js';
import { AuditRecorder } from './recorder.js';
import { auditDirOf } from './segment-files.js';
import { AuditLog, type MarkCopy } from './segment-writer.js';
import { SessionIndex } from './session-index.js';

export interface OpenAudit {
  log: AuditLog;
  index: SessionIndex;
  recorder: AuditRecorder;
  dir: string;
  key: Buffer;
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

/** Opens the audit log (repairing a torn tail), catches the session index up, and makes the recorder the call path records through. */
export async function openAudit(dataDir: string, live: LiveConfig, key: Buffer, markCopy?: MarkCopy, principalOf: () => string = () => localPrincipal(), groupsOf: () => readonly string[] = () => []): Promise<OpenAudit> {
  const dir = auditDirOf(dataDir);
  const config = live.current.config;
  const log = await AuditLog.open({
    dir,
    key,
    segmentSize: config.recording.segmentSize,
    retention: config.recording.retention ?? {},
    markCopy,
  });
  const index = await SessionIndex.load(dir);
  if (index.rebuiltBecause) {
    await log.append({ ts: new Date().toISOString(), kind: 'event', event: 'index-rebuilt', detail: { reason: index.rebuiltBecause } }).catch(() => undefined);
  }
  log.onPrune = (segments) => index.forgetSegments(segments);
  log.onCommit = (records) => {
    for (const r of records) index.apply(r);
    index.schedulePersist();
  };
  const recorder = new AuditRecorder({
    log,
    principal: principalOf,
    groups: groupsOf,
    exclude: () => live.current.config.recording.exclude,
    mask: (value) => live.current.masker.json(value),
    maskText: (value) => live.current.masker.text(value),
  });
  return {
    log,
    index,
    recorder,
    dir,
    key,
    close: async () => {
      await log.close();
      await index.persistNow();
    },
  };
}

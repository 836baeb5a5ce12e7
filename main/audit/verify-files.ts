import type { KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readMark } from './segment-writer.js';
import { ANCHOR_FILE, HEAD_FILE, listSegments } from './segment-files.js';
import { verifyLog, verifyLogAsync, type VerifyReport } from './verify.js';

export interface VerifyDirOptions {
  key?: Buffer | undefined;
  /** Check the signatures with this public key (an auditor's check: no secret). */
  publicKey?: KeyObject | undefined;
  /** A gateway is writing this log now (its newest batch may be mid-write). */
  live?: boolean | undefined;
  onProgress?: (done: number, total: number) => void;
}

/**
 * verifyAuditDir for the gateway's own process: segments read asynchronously and the work sliced, so that
 * the messages it carries never wait behind a verify (the web UI's "Verify now" on a large log).
 */
export async function verifyAuditDirAsync(auditDir: string, options: VerifyDirOptions = {}): Promise<VerifyReport & { totalBytes: number }> {
  const head = readMark(join(auditDir, HEAD_FILE));
  const anchor = readMark(join(auditDir, ANCHOR_FILE));
  const names = listSegments(auditDir);
  const totalBytes = names.reduce((sum, n) => sum + statSync(join(auditDir, n)).size, 0);
  const report = await verifyLogAsync(
    { names, read: (name) => readFile(join(auditDir, name)) },
    {
      key: options.key,
      publicKey: options.publicKey,
      live: options.live,
      head,
      anchor,
      ...(options.onProgress ? { onProgress: (done: number) => options.onProgress?.(done, totalBytes) } : {}),
    },
  );
  return { ...report, totalBytes };
}

/** Verifies the audit folder on disk: its segments, the head mark and the pruning anchor. */
export function verifyAuditDir(auditDir: string, options: VerifyDirOptions = {}): VerifyReport & { totalBytes: number } {
  // The marks first, then the segments: with a gateway writing meanwhile, the log can only be ahead of them.
  const head = readMark(join(auditDir, HEAD_FILE));
  const anchor = readMark(join(auditDir, ANCHOR_FILE));
  const names = listSegments(auditDir);
  const totalBytes = names.reduce((sum, n) => sum + statSync(join(auditDir, n)).size, 0);
  const report = verifyLog(
    { names, read: (name) => readFileSync(join(auditDir, name)) },
    {
      key: options.key,
      publicKey: options.publicKey,
      live: options.live,
      head,
      anchor,
      ...(options.onProgress ? { onProgress: (done: number) => options.onProgress?.(done, totalBytes) } : {}),
    },
  );
  return { ...report, totalBytes };
}

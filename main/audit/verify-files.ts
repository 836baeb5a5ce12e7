import type { KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readMark } from './segment-writer.js';
import { ANCHOR_FILE, HEAD_FILE, listSegments } from './segment-files.js';
import { verifyLog, verifyLogAsync, type VerifyOptions, type VerifyReport } from './verify.js';

export interface VerifyDirOptions {
  key?: Buffer | undefined;
  /** Check the signatures with this public key (an auditor's check: no secret). */
  publicKey?: KeyObject | undefined;
  /** A gateway is writing this log now (its newest batch may be mid-write). */
  live?: boolean | undefined;
  onProgress?: (done: number, total: number) => void;
}

/**
 * What a verify of the folder starts from: the marks first, then the segments (with a gateway writing
 * meanwhile, the log can only be ahead of them), and the options verifyLog takes.
 */
function planOf(auditDir: string, options: VerifyDirOptions): { names: string[]; totalBytes: number; verify: VerifyOptions } {
  const head = readMark(join(auditDir, HEAD_FILE));
  const anchor = readMark(join(auditDir, ANCHOR_FILE));
  const names = listSegments(auditDir);
  const totalBytes = names.reduce((sum, n) => sum + statSync(join(auditDir, n)).size, 0);
  const verify: VerifyOptions = { key: options.key, publicKey: options.publicKey, live: options.live, head, anchor };
  if (options.onProgress) verify.onProgress = (done: number) => options.onProgress?.(done, totalBytes);
  return { names, totalBytes, verify };
}

/**
 * verifyAuditDir for the gateway's own process: segments read asynchronously and the work sliced, so that
 * the messages it carries never wait behind a verify (the web UI's "Verify now" on a large log).
 */
export async function verifyAuditDirAsync(auditDir: string, options: VerifyDirOptions = {}): Promise<VerifyReport & { totalBytes: number }> {
  const { names, totalBytes, verify } = planOf(auditDir, options);
  return { ...(await verifyLogAsync({ names, read: (name) => readFile(join(auditDir, name)) }, verify)), totalBytes };
}

/** Verifies the audit folder on disk: its segments, the head mark and the pruning anchor. */
export function verifyAuditDir(auditDir: string, options: VerifyDirOptions = {}): VerifyReport & { totalBytes: number } {
  const { names, totalBytes, verify } = planOf(auditDir, options);
  return { ...verifyLog({ names, read: (name) => readFileSync(join(auditDir, name)) }, verify), totalBytes };
}

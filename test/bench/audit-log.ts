import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AuditEntry } from '../../main/audit/record.js';
import { readSessionRecords } from '../../main/audit/reader.js';
import { listSegments } from '../../main/audit/segment-files.js';
import { AuditLog } from '../../main/audit/segment-writer.js';
import { SessionIndex } from '../../main/audit/session-index.js';
import { searchSessions } from '../../main/audit/timeline.js';
import { verifyAuditDir, verifyAuditDirAsync } from '../../main/audit/verify-files.js';

const KEY = Buffer.alloc(32, 1);

/** A ~1 KB record, shaped like a recorded tools/call. */
export function entry(i: number, session: string): AuditEntry {
  return {
    ts: new Date(1_795_000_000_000 + i).toISOString(),
    session,
    server: 'files',
    principal: 'local:bench',
    client: { name: 'bench-client', version: '1.0.0' },
    direction: 'client->server',
    kind: 'request',
    method: 'tools/call',
    tool: 'write_file',
    id: i,
    payload: { jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'write_file', arguments: { path: `/tmp/project/file-${i}.txt`, content: 'x'.repeat(700) } } },
  };
}

async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

export async function benchAuditLog(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'gatehouse-bench-audit-'));
  const out: string[] = [];
  try {
    // 1. Sustained durable recording: many records in flight, group commit, every append awaited until fsynced.
    const dir = join(root, 'audit');
    const log = await AuditLog.open({ dir, key: KEY });
    const total = 1_000_000;
    const sessions = 100; // 10,000 records each
    const inFlight = 2000;
    let next = 0;
    const { ms } = await timed(async () => {
      const worker = async () => {
        while (next < total) {
          const i = next++;
          await log.append(entry(i, `session-${String(i % sessions).padStart(4, '0')}`));
        }
      };
      await Promise.all(Array.from({ length: inFlight }, worker));
    });
    await log.close();
    const bytes = listSegments(dir).reduce((sum, n) => sum + statSync(join(dir, n)).size, 0);
    out.push(`durable recording: ${total.toLocaleString('en')} records of ~${Math.round(bytes / total)} B in ${(ms / 1000).toFixed(2)} s = ${Math.round(total / (ms / 1000)).toLocaleString('en')} records/s (${(bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s), fsync per batch`);

    // 2. verify over the whole log.
    const verified = await timed(() => verifyAuditDir(dir, { key: KEY }));
    out.push(`verify: ${(bytes / 1e6).toFixed(0)} MB, ${verified.value.records.toLocaleString('en')} records, ok=${verified.value.ok} in ${(verified.ms / 1000).toFixed(2)} s = ${(bytes / 1e6 / (verified.ms / 1000)).toFixed(0)} MB/s`);

    // 2b. What a gateway does while it carries traffic: the sliced, asynchronous verify (the UI's "Verify now")
    // and a full-text search, with the event loop's delay measured throughout (what every message would wait).
    const loopDelay = async (fn: () => Promise<unknown>): Promise<{ ms: number; p99: number; max: number }> => {
      const h = monitorEventLoopDelay({ resolution: 1 });
      h.enable();
      const start = performance.now();
      await fn();
      const ms = performance.now() - start;
      h.disable();
      return { ms, p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
    };
    const asyncVerify = await loopDelay(() => verifyAuditDirAsync(dir, { key: KEY }));
    out.push(`verify in the gateway (asynchronous, sliced): ${(bytes / 1e6).toFixed(0)} MB in ${(asyncVerify.ms / 1000).toFixed(2)} s; event-loop delay meanwhile p99 ${asyncVerify.p99.toFixed(1)} ms, max ${asyncVerify.max.toFixed(1)} ms (target p99 < 20 ms)`);
    const search = await loopDelay(() => searchSessions(dir, listSegments(dir), 'file-999999.txt'));
    out.push(`full-text search over ${(bytes / 1e6).toFixed(0)} MB in the gateway: ${(search.ms / 1000).toFixed(2)} s; event-loop delay meanwhile p99 ${search.p99.toFixed(1)} ms, max ${search.max.toFixed(1)} ms (target p99 < 20 ms)`);

    // 3. The index: a cold rebuild, then what `gatehouse sessions` and `gatehouse replay` do (load + list, load + open).
    rmSync(join(dir, 'index'), { recursive: true, force: true });
    const rebuilt = await timed(() => SessionIndex.load(dir));
    out.push(`index rebuild from segments (cold): ${(rebuilt.ms / 1000).toFixed(2)} s`);
    const listed = await timed(async () => (await SessionIndex.load(dir, { persist: false })).list());
    out.push(`sessions listing on a ${total.toLocaleString('en')}-record log: ${listed.ms.toFixed(0)} ms (${listed.value.length} sessions)`);
    const opened = await timed(async () => readSessionRecords(dir, await SessionIndex.load(dir, { persist: false }), 'session-0042'));
    out.push(`opening a session with ${opened.value.length.toLocaleString('en')} events: ${opened.ms.toFixed(0)} ms (index load included)`);
    return out.join('\n');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

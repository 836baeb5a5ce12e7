/*
 * A slow disk must not stall the event loop. Found by the durability attacker (round 13): with the audit
 * filesystem frozen, the main thread sat in the log's synchronous sync, and every session, the UI, the API and
 * every timer (gateway.requestTimeout included) stopped with it. A small batch is synced on the main thread (it is
 * faster there on a healthy disk); once such a sync is slow, syncs go off the main thread for a while.
 * (A disk that stops dead on the very first sync still holds that one: it is the price of the fast path.)
 */
import * as fs from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../../main/audit/segment-writer.js';
import { verifyAuditDir } from '../../../main/audit/verify-files.js';
import { sampleEntry, TEST_KEY, writeTestLog } from '../../helpers/audit-log.js';

const disk = vi.hoisted(() => ({ slowNext: false }));
vi.mock('node:fs', async (original) => {
  const real = await original<typeof import('node:fs')>();
  const fdatasyncSync = vi.fn((fd: number) => {
    if (disk.slowNext) {
      disk.slowNext = false;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50); // a sync that takes 50 ms
    }
    real.fdatasyncSync(fd);
  });
  return { ...real, fdatasyncSync };
});

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

describe('a slow disk', () => {
  it('sends syncs off the main thread once one on it was slow', async () => {
    const l = await writeTestLog(0);
    cleanups.push(l.remove);
    const log = await AuditLog.open({ dir: l.dir, key: TEST_KEY });
    const onMainThread = () => vi.mocked(fs.fdatasyncSync).mock.calls.length;
    await log.append(sampleEntry(1));
    await log.append(sampleEntry(2));
    const healthy = onMainThread();
    expect(healthy).toBeGreaterThanOrEqual(2);
    disk.slowNext = true;
    await log.append(sampleEntry(3));
    for (let i = 4; i < 20; i++) await log.append(sampleEntry(i));
    expect(onMainThread()).toBe(healthy + 1);
    await log.close();
    expect(verifyAuditDir(l.dir)).toMatchObject({ ok: true, records: 19 });
  });
});

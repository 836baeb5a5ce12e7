/*
 * A disk that fills up mid-write. Found by the durability attacker (round 13): write(2) on a full disk writes
 * what fits and returns a short count, without an error; the log took the batch as written, fdatasync
 * succeeded, the record was acknowledged (and its call forwarded), and after a restart the torn line was cut as
 * "never acknowledged" and verify failed for good. Attacks:
 * - a short write, and the rest goes through on the next try (a disk that had just enough room after all);
 * - a short write, then ENOSPC: nothing is acknowledged, the log refuses from then on, and a restart finds every
 *   acknowledged record and a log that verifies;
 * - the disk comes back (room freed) while the gateway runs: the log takes records again without a restart, the
 *   failed write's torn bytes cut, a record saying how long it could not be written, and a chain that verifies;
 * - (round 2) a segment roll that fails (no inode left for the new file): the log must recover as well once the
 *   disk has room, not hold a closed file for good; and a gateway stopped during an outage still records it, with
 *   how many records could not be written (the answers its clients got unrecorded).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { listSegments } from '../../../main/audit/segment-files.js';
import { AuditLog } from '../../../main/audit/segment-writer.js';
import { verifyAuditDir } from '../../../main/audit/verify-files.js';
import { breakLogDisk, sampleEntry, TEST_KEY, writeTestLog } from '../../helpers/audit-log.js';

/** The disk as the test sets it: the next segment write takes `fits` bytes at most, and later ones fail if `full`. */
const disk = vi.hoisted(() => ({ fits: undefined as number | undefined, full: false, noInodes: false }));
// No inode left: a new segment cannot be created (a roll fails), while the open one can still be written.
vi.mock('node:fs/promises', async (original) => {
  const real = await original<typeof import('node:fs/promises')>();
  const open = ((path: string, ...rest: unknown[]) => {
    if (disk.noInodes && String(path).endsWith('.jsonl')) return Promise.reject(Object.assign(new Error(`ENOSPC: no space left on device, open '${String(path)}'`), { code: 'ENOSPC' }));
    return (real.open as (...a: unknown[]) => Promise<unknown>)(path, ...rest);
  }) as typeof real.open;
  return { ...real, open };
});
vi.mock('node:fs', async (original) => {
  const real = await original<typeof import('node:fs')>();
  const writeSync = ((fd: number, data: string | NodeJS.ArrayBufferView, ...rest: unknown[]) => {
    // (A segment write is an append: no position. head.json is written at position 0.)
    const append = rest.length === 0 || (typeof data !== 'string' && rest[2] === undefined);
    if (append && disk.fits !== undefined) {
      const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      const offset = typeof data === 'string' ? 0 : Number(rest[0] ?? 0);
      const length = typeof data === 'string' ? bytes.length : Number(rest[1] ?? bytes.length - offset);
      const n = Math.min(disk.fits, length);
      disk.fits = undefined;
      return real.writeSync(fd, bytes, offset, n);
    }
    if (append && disk.full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    return (real.writeSync as (...a: unknown[]) => number)(fd, data, ...rest);
  }) as typeof real.writeSync;
  return { ...real, writeSync };
});

const cleanups: (() => void)[] = [];
afterEach(() => {
  disk.fits = undefined;
  disk.full = false;
  disk.noInodes = false;
  cleanups.splice(0).forEach((c) => c());
});

describe('a disk that fills up mid-write', () => {
  it('writes the rest of a short write before it acknowledges anything', async () => {
    const l = await writeTestLog(0);
    cleanups.push(l.remove);
    const log = await AuditLog.open({ dir: l.dir, key: TEST_KEY });
    await log.append(sampleEntry(1));
    disk.fits = 40;
    await log.append(sampleEntry(2));
    await log.close();
    expect(verifyAuditDir(l.dir)).toMatchObject({ ok: true, records: 2 });
  });

  it('acknowledges nothing that did not reach the disk whole, and a restart finds every acknowledged record', async () => {
    const l = await writeTestLog(0);
    cleanups.push(l.remove);
    const log = await AuditLog.open({ dir: l.dir, key: TEST_KEY });
    const acknowledged = [await log.append(sampleEntry(1)), await log.append(sampleEntry(2))];
    disk.fits = 40;
    disk.full = true;
    await expect(log.append(sampleEntry(3))).rejects.toThrow(/no space|could not be written|cannot be written/);
    await expect(log.append(sampleEntry(4))).rejects.toThrow();
    disk.full = false;
    await log.close().catch(() => undefined);
    // (The process ends; the disk has room again; the gateway starts.)
    const again = await AuditLog.open({ dir: l.dir, key: TEST_KEY });
    await again.close();
    const report = verifyAuditDir(l.dir);
    expect(report.ok).toBe(true);
    expect(report.records).toBeGreaterThanOrEqual(acknowledged.length);
  });

  it('takes records again once the disk has room, without a restart, and the log verifies', async () => {
    const l = await writeTestLog(0);
    cleanups.push(l.remove);
    const log = await AuditLog.open({ dir: l.dir, key: TEST_KEY, recoverEvery: 0 });
    await log.append(sampleEntry(1));
    await log.append(sampleEntry(2));
    disk.fits = 40;
    disk.full = true;
    await expect(log.append(sampleEntry(3))).rejects.toThrow();
    await expect(log.append(sampleEntry(4))).rejects.toThrow(); // still full: still refused
    disk.full = false;
    await log.append(sampleEntry(5));
    await log.close();
    const report = verifyAuditDir(l.dir);
    expect(report).toMatchObject({ ok: true });
    const lines = listSegments(l.dir).flatMap((n) => readFileSync(join(l.dir, n), 'utf8').split('\n').filter(Boolean).map((x) => JSON.parse(x) as { seq: number; event?: string; detail?: { cutBytes?: number } }));
    expect(lines.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(lines[2]).toMatchObject({ event: 'repair', detail: { cutBytes: 40 } });
  });

  it('refuses, and does not try the disk over and over, while the disk stays broken', async () => {
    const l = await writeTestLog(0);
    cleanups.push(l.remove);
    const log = await AuditLog.open({ dir: l.dir, key: TEST_KEY, recoverEvery: 0 });
    await log.append(sampleEntry(1));
    await breakLogDisk(log);
    await expect(log.append(sampleEntry(2))).rejects.toThrow(/cannot be written/);
    await expect(log.append(sampleEntry(3))).rejects.toThrow(/cannot be written/);
    await log.close().catch(() => undefined);
  });

  it('recovers from a segment roll that failed, once the disk has room again', async () => {
    const l = await writeTestLog(0);
    cleanups.push(l.remove);
    const log = await AuditLog.open({ dir: l.dir, key: TEST_KEY, segmentSize: 2048, recoverEvery: 0 });
    await log.append(sampleEntry(1));
    disk.noInodes = true;
    let refused = 0;
    for (let i = 2; i < 40 && refused === 0; i++) refused += await log.append(sampleEntry(i)).then(() => 0, () => 1);
    expect(refused).toBe(1);
    disk.noInodes = false;
    await log.append(sampleEntry(99));
    await log.close();
    expect(verifyAuditDir(l.dir)).toMatchObject({ ok: true });
    const records = listSegments(l.dir).flatMap((n) => readFileSync(join(l.dir, n), 'utf8').split('\n').filter(Boolean).map((x) => JSON.parse(x) as { event?: string; detail?: { failure?: string } }));
    expect(records.some((r) => r.event === 'repair' && /ENOSPC/.test(r.detail?.failure ?? ''))).toBe(true);
  });

  it('records an outage when the gateway stops before the next append, with how many records could not be written', async () => {
    const l = await writeTestLog(0);
    cleanups.push(l.remove);
    const log = await AuditLog.open({ dir: l.dir, key: TEST_KEY, recoverEvery: 60_000 });
    await log.append(sampleEntry(1));
    disk.full = true;
    for (let i = 2; i < 5; i++) await expect(log.append(sampleEntry(i))).rejects.toThrow();
    disk.full = false;
    await log.close();
    const records = listSegments(l.dir).flatMap((n) => readFileSync(join(l.dir, n), 'utf8').split('\n').filter(Boolean).map((x) => JSON.parse(x) as { event?: string; detail?: { refusedRecords?: number } }));
    expect(records.find((r) => r.event === 'repair')).toMatchObject({ detail: { refusedRecords: 3 } });
    expect(verifyAuditDir(l.dir)).toMatchObject({ ok: true });
  });
});

import { appendFileSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRecord } from '../../../main/audit/record.js';
import { listSegments } from '../../../main/audit/segment-files.js';
import { AuditLog } from '../../../main/audit/segment-writer.js';
import { verifyAuditDir } from '../../../main/audit/verify-files.js';
import { breakLogDisk, sampleEntry, TEST_KEY, writeTestLog } from '../../helpers/audit-log.js';
import { readMark } from '../../../main/audit/segment-writer.js';
import { parsePublicKey, publicKeyPem, signingKeyFrom } from '../../../main/audit/signing.js';
import { waitFor } from '../../helpers/gateway-harness.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const allRecords = (dir: string) =>
  listSegments(dir).flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n').filter(Boolean).map((l) => parseRecord(l)));

describe('the segment writer', () => {
  it('signs every seal, a commit at most once per interval, and the head mark at shutdown; writes the public key beside the log', async () => {
    const l = await writeTestLog(0);
    cleanups.push(l.remove);
    const log = await AuditLog.open({ dir: l.dir, key: TEST_KEY, segmentSize: 2048, signEvery: 60_000 });
    for (let i = 0; i < 30; i++) await log.append(sampleEntry(i)); // thirty commits, one by one
    await log.flush();
    const lines = listSegments(l.dir).flatMap((n) => readFileSync(join(l.dir, n), 'utf8').split('\n').filter(Boolean));
    const signed = lines.filter((line) => line.includes(',"signed":true,"prev"'));
    const seals = lines.filter((line) => parseRecord(line).kind === 'checkpoint');
    expect(seals.length).toBeGreaterThan(1);
    // The first commit (nothing signed before it) and every seal; none of the other commits within the minute.
    expect(signed.length).toBe(seals.length + 1);
    expect(seals.every((line) => line.includes(',"signed":true,"prev"') && /,"sig":"[0-9a-f]{128}"\}$/.test(line))).toBe(true);
    expect(readMark(join(l.dir, 'head.json'))?.sig).toBeUndefined(); // signed once already at the first commit, so not again within the interval
    await log.close();
    const head = readMark(join(l.dir, 'head.json'));
    expect(head?.sig).toMatch(/^[0-9a-f]{128}$/);
    expect(verifyAuditDir(l.dir, { publicKey: signingKeyFrom(TEST_KEY).publicKey })).toMatchObject({ ok: true, signedThrough: 30 + seals.length });
    expect(publicKeyPem(parsePublicKey(join(l.dir, 'signing-key.pem')))).toBe(publicKeyPem(signingKeyFrom(TEST_KEY).publicKey));
  });

  it('when traffic stops, a timer signs the newest head mark within the interval', async () => {
    const l = await writeTestLog(0);
    cleanups.push(l.remove);
    const log = await AuditLog.open({ dir: l.dir, key: TEST_KEY, signEvery: 100 });
    await log.append(sampleEntry(0));
    await log.append(sampleEntry(1)); // within the interval: its head mark is not signed yet
    await log.flush();
    await waitFor(() => readMark(join(l.dir, 'head.json'))?.seq === 2 && readMark(join(l.dir, 'head.json'))?.sig !== undefined, 3000, 'a signed head mark');
    expect(verifyAuditDir(l.dir, { publicKey: signingKeyFrom(TEST_KEY).publicKey })).toMatchObject({ ok: true, signedThrough: 2 });
    await log.close();
  });

  it('acknowledges each append with consecutive seqs, in the order they were queued', async () => {
    const l = await writeTestLog(0);
    cleanups.push(l.remove);
    const log = await AuditLog.open({ dir: l.dir, key: TEST_KEY });
    const seqs = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(sampleEntry(i))));
    await log.close();
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(allRecords(l.dir).map((r) => (r.payload as { params: { note: string } }).params.note.split(' ')[1])).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
  });

  it('rolls segments by size, seals each with a checkpoint, and continues the chain after a restart', async () => {
    const l = await writeTestLog(30, 2048);
    cleanups.push(l.remove);
    const reopened = await AuditLog.open({ dir: l.dir, key: TEST_KEY, segmentSize: 2048 });
    await reopened.append(sampleEntry(99));
    await reopened.close();
    const records = allRecords(l.dir);
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i + 1));
    expect(records.filter((r) => r.kind === 'checkpoint').length).toBe(listSegments(l.dir).length - 1);
    expect(verifyAuditDir(l.dir, { key: TEST_KEY }).ok).toBe(true);
  });

  it('cuts a torn last line on open, records the repair, and keeps everything before it', async () => {
    const l = await writeTestLog(10);
    cleanups.push(l.remove);
    const names = listSegments(l.dir);
    const last = join(l.dir, names[names.length - 1] as string);
    const before = allRecords(l.dir).length;
    const torn = '{"seq":9999,"ts":"2026-11-22T12:00:00.000Z","session":"half-writ';
    appendFileSync(last, torn);
    const log = await AuditLog.open({ dir: l.dir, key: TEST_KEY });
    await log.close();
    const records = allRecords(l.dir);
    expect(records).toHaveLength(before + 1);
    expect(records[records.length - 1]).toMatchObject({ kind: 'event', event: 'repair', detail: { cutBytes: torn.length } });
    expect(verifyAuditDir(l.dir, { key: TEST_KEY }).ok).toBe(true);
  });

  it('creates its folder 0700 and its files 0600', async () => {
    const l = await writeTestLog(5);
    cleanups.push(l.remove);
    expect(statSync(l.dir).mode & 0o777).toBe(0o700);
    for (const name of [...listSegments(l.dir), 'head.json']) expect(statSync(join(l.dir, name)).mode & 0o777).toBe(0o600);
  });

  it('fails closed once a write fails: the failing batch and every later append are refused', async () => {
    const l = await writeTestLog(0);
    cleanups.push(l.remove);
    const log = await AuditLog.open({ dir: l.dir, key: TEST_KEY });
    await log.append(sampleEntry(0));
    await breakLogDisk(log);
    await expect(log.append(sampleEntry(1))).rejects.toThrow(/cannot be written \(EBADF/);
    await expect(log.append(sampleEntry(2))).rejects.toThrow(/cannot be written/);
  });
});

describe('the live segment replaced while the log runs (the same OS user, a sync tool, an attacker)', () => {
  it('acknowledges nothing written to a segment that is no longer where the log is read, and says which file', async () => {
    const l = await writeTestLog(0);
    cleanups.push(l.remove);
    const log = await AuditLog.open({ dir: l.dir, key: TEST_KEY });
    await log.append(sampleEntry(1));
    const segment = listSegments(l.dir)[0] as string;
    renameSync(join(l.dir, segment), join(l.dir, 'moved-away'));
    mkdirSync(join(l.dir, segment));
    await expect(log.append(sampleEntry(2))).rejects.toThrow(new RegExp(`${segment.replace('.', '\\.')}.*(replaced|removed)`));
    await expect(log.append(sampleEntry(3))).rejects.toThrow();
    await log.close().catch(() => undefined);
  });

  it('refuses to start on a directory named like a segment, naming it', async () => {
    const l = await writeTestLog(3);
    cleanups.push(l.remove);
    const segment = listSegments(l.dir)[0] as string;
    renameSync(join(l.dir, segment), join(l.dir, 'moved-away'));
    mkdirSync(join(l.dir, segment));
    await expect(AuditLog.open({ dir: l.dir, key: TEST_KEY })).rejects.toThrow(new RegExp(`${segment.replace('.', '\\.')}.*not a regular file`));
  });
});

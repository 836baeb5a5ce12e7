/*
 * How the log is read must not depend on what clients send. Attacks: a payload that contains
 * `"kind":"checkpoint"` (or every other record field name and value: seq, prev, hash, segment, mac, head and
 * anchor shapes, signatures, commit flags, omitted runs and export headers) as the last record of a segment, so that a substring test takes the segment for sealed (or
 * a session's replay picks up another session's records); checked on a live log (newest segment unsealed,
 * as while the gateway runs or after a crash), on one that was closed and reopened, and on its exports (whole,
 * and one session's, where a payload shaped like an omitted run must not be taken for one).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../../main/audit/record.js';
import { AuditLog, readMark } from '../../../main/audit/segment-writer.js';
import { checkExport } from '../../../main/audit/export-check.js';
import { exportJsonl } from '../../../main/audit/export.js';
import { listSegments } from '../../../main/audit/segment-files.js';
import { publicKeyHex, signingKeyFrom } from '../../../main/audit/signing.js';
import { verifyAuditDir } from '../../../main/audit/verify-files.js';
import { TEST_KEY } from '../../helpers/audit-log.js';

const FIELDS = ['seq', 'ts', 'session', 'server', 'principal', 'groups', 'client', 'direction', 'kind', 'method', 'tool', 'id', 'event', 'payload', 'decision', 'detail', 'masked', 'prev', 'hash', 'segment', 'firstSeq', 'lastSeq', 'lastHash', 'mac', 'scope', 'sig', 'signed', 'commit', 'omitted', 'fromSeq', 'toSeq', 'gatehouseExport', 'publicKey'];
const VALUES = ['checkpoint', 'head', 'anchor', 'segment', '000000000001.jsonl', '0'.repeat(64), 'f'.repeat(64), '"kind":"checkpoint"', '{"kind":"checkpoint"}', '\n', '"}', 1, 0, -1, true, null, 'f'.repeat(128), ',"sig":"' + 'f'.repeat(128) + '"}', ',"commit":true,"signed":true', '{"omitted":{"fromSeq":1,"toSeq":9}}', 'break', '"event":"break"'];

/** A value a client could send: objects keyed by record field names, holding record-like values, nested. */
const hostile = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, fc.constantFrom(...VALUES), fc.string(), tie('object'), fc.array(tie('value'), { maxLength: 3 })),
  object: fc.dictionary(fc.constantFrom(...FIELDS), tie('value'), { maxKeys: 5 }),
})).object;

const entry = (payload: unknown, i: number): AuditEntry => ({ ts: new Date(Date.UTC(2026, 11, 1, 12, 0, i)).toISOString(), session: `s${i % 2}`, server: 'files', kind: 'request', direction: 'client->server', method: 'tools/call', id: i, payload });

describe('the log is read by parsing, never by what a payload says', () => {
  it('generated payloads shaped like checkpoints, heads and anchors never make verify fail, live or after reopening', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(hostile, { minLength: 1, maxLength: 12 }), async (payloads) => {
        const dir = join(mkdtempSync(join(tmpdir(), 'gatehouse-structure-')), 'audit');
        try {
          const log = await AuditLog.open({ dir, key: TEST_KEY, segmentSize: 700 });
          await Promise.all(payloads.map((p, i) => log.append(entry(p, i))));
          await log.flush();
          const live = verifyAuditDir(dir, { key: TEST_KEY });
          expect(live.problem).toBeUndefined();
          await log.close();
          const reopened = await AuditLog.open({ dir, key: TEST_KEY, segmentSize: 700 });
          await reopened.append(entry({ after: 'reopen' }, 99));
          await reopened.close();
          const after = verifyAuditDir(dir, { key: TEST_KEY });
          expect(after.problem).toBeUndefined();
          expect(after.records).toBeGreaterThan(payloads.length);
          // And an export of it, whole and by session, checked with the public key alone.
          const segments = listSegments(dir).map((n) => readFileSync(join(dir, n)));
          const meta = { createdAt: new Date().toISOString(), head: readMark(join(dir, 'head.json')), publicKey: publicKeyHex(signingKeyFrom(TEST_KEY).publicKey), signer: signingKeyFrom(TEST_KEY) };
          for (const filter of [{}, { session: 's0' }]) {
            const check = checkExport([...exportJsonl(segments, filter, meta)].join(''), signingKeyFrom(TEST_KEY).publicKey);
            expect(check.problem).toBeUndefined();
          }
        } finally {
          rmSync(join(dir, '..'), { recursive: true, force: true });
        }
      }),
      { numRuns: 60 },
    );
  });

  it('a payload that is exactly a checkpoint record, as the last line of the newest segment, does not seal it', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'gatehouse-structure-')), 'audit');
    try {
      const log = await AuditLog.open({ dir, key: TEST_KEY, segmentSize: 1 << 20 });
      await log.append(entry({ kind: 'checkpoint', detail: { segment: '000000000001.jsonl', firstSeq: 1, lastSeq: 0, lastHash: '0'.repeat(64), mac: 'f'.repeat(64) } }, 1));
      await log.close();
      const reopened = await AuditLog.open({ dir, key: TEST_KEY, segmentSize: 1 << 20 });
      await reopened.append(entry({}, 2));
      await reopened.close();
      const report = verifyAuditDir(dir, { key: TEST_KEY });
      expect(report).toMatchObject({ ok: true, segments: 1, records: 2 });
    } finally {
      rmSync(join(dir, '..'), { recursive: true, force: true });
    }
  });
});

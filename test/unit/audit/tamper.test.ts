import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { computeLineHash, GENESIS, lineFields } from '../../../main/audit/record.js';
import { markMessage, signingKeyFrom, signText } from '../../../main/audit/signing.js';
import { listSegments } from '../../../main/audit/segment-files.js';
import { verifyAuditDir } from '../../../main/audit/verify-files.js';
import { verifyLog, verifyLogAsync } from '../../../main/audit/verify.js';
import { TEST_KEY, writeTestLog } from '../../helpers/audit-log.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

async function log(count = 40, segmentSize = 4096) {
  const l = await writeTestLog(count, segmentSize);
  cleanups.push(l.remove);
  return l.dir;
}

const verify = (dir: string, key: Buffer | undefined = TEST_KEY) => verifyAuditDir(dir, { key });
const segmentLines = (dir: string, name: string) => readFileSync(join(dir, name), 'utf8').split('\n').slice(0, -1);
const writeLines = (dir: string, name: string, lines: string[]) => writeFileSync(join(dir, name), lines.map((l) => l + '\n').join(''));

describe('the audit log verifies, and every kind of tampering is caught where it happened', () => {
  it('an untouched log verifies, across several sealed segments', async () => {
    const dir = await log(60);
    const report = verify(dir);
    expect(report.problem).toBeUndefined();
    expect(report.ok).toBe(true);
    expect(report.segments).toBeGreaterThan(3);
    expect(report.checkpointsChecked).toBe(report.segments - 1);
  });

  it('flipping one byte in a record: hash mismatch at that record', async () => {
    const dir = await log();
    const [first, second] = listSegments(dir) as [string, string];
    const lines = segmentLines(dir, second);
    lines[2] = (lines[2] as string).replace('record', 'recorD');
    writeLines(dir, second, lines);
    const report = verify(dir);
    expect(report.problem).toMatchObject({ segment: second, line: 3, reason: 'hash-mismatch' });
    expect(first).not.toBe(second);
  });

  it('deleting a line: a gap at the missing seq', async () => {
    const dir = await log();
    const name = listSegments(dir)[1] as string;
    const lines = segmentLines(dir, name);
    const removed = lineFields(Buffer.from(lines[1] as string))?.seq;
    lines.splice(1, 1);
    writeLines(dir, name, lines);
    expect(verify(dir).problem).toMatchObject({ segment: name, line: 2, reason: 'gap', seq: removed });
  });

  it('swapping two lines: a reorder at the first of them', async () => {
    const dir = await log();
    const name = listSegments(dir)[1] as string;
    const lines = segmentLines(dir, name);
    [lines[1], lines[2]] = [lines[2] as string, lines[1] as string];
    writeLines(dir, name, lines);
    expect(verify(dir).problem).toMatchObject({ segment: name, line: 2, reason: 'reorder' });
  });

  it('truncating the tail: the head mark says what was removed', async () => {
    const dir = await log();
    const names = listSegments(dir);
    const last = names[names.length - 1] as string;
    const lines = segmentLines(dir, last);
    writeLines(dir, last, lines.slice(0, -2));
    expect(verify(dir).problem).toMatchObject({ reason: 'truncated', segment: last });
  });

  it('cutting a line in half: a torn last line', async () => {
    const dir = await log();
    const names = listSegments(dir);
    const last = names[names.length - 1] as string;
    const data = readFileSync(join(dir, last));
    writeFileSync(join(dir, last), data.subarray(0, data.length - 30));
    expect(verify(dir).problem).toMatchObject({ reason: 'torn', segment: last });
  });

  it('an incomplete last line beyond the head mark (a write in progress) is not tampering', async () => {
    const dir = await log();
    const names = listSegments(dir);
    const last = join(dir, names[names.length - 1] as string);
    writeFileSync(last, Buffer.concat([readFileSync(last), Buffer.from('{"seq":999,"ts":"2026-11-22T')]));
    expect(verify(dir)).toMatchObject({ ok: true, incompleteTail: true });
  });

  it('deleting a whole segment: the missing segment and its seq range are named', async () => {
    const dir = await log();
    const names = listSegments(dir);
    rmSync(join(dir, names[2] as string));
    expect(verify(dir).problem).toMatchObject({ reason: 'missing-segment', segment: names[3] });
  });

  it('deleting the newest segment: truncation', async () => {
    const dir = await log();
    const names = listSegments(dir);
    rmSync(join(dir, names[names.length - 1] as string));
    expect(verify(dir).problem?.reason).toBe('truncated');
  });

  it('recomputing the whole chain without the key: the first checkpoint no longer matches', async () => {
    const dir = await log();
    const names = listSegments(dir);
    // An attacker edits record 3 and re-hashes everything after it, checkpoints' visible fields included.
    let prev = GENESIS;
    for (const name of names) {
      const rewritten = segmentLines(dir, name).map((text) => {
        let record = JSON.parse(text) as Record<string, unknown>;
        if (record.seq === 3) record = { ...record, payload: { forged: true } };
        if (record.kind === 'checkpoint') record.detail = { ...(record.detail as object), lastHash: prev };
        // Without the key no commit evidence can be made: the forger drops the marks (they are hashed, so all at once).
        delete record.hash;
        delete record.mac;
        delete record.sig;
        delete record.commit;
        delete record.signed;
        record.prev = prev;
        const body = JSON.stringify(record);
        prev = computeLineHash(Buffer.from(`${body.slice(0, -1)},"hash":"${'0'.repeat(64)}"}`));
        return `${body.slice(0, -1)},"hash":"${prev}"}`;
      });
      writeLines(dir, name, rewritten);
    }
    const withKey = verify(dir);
    expect(withKey.problem).toMatchObject({ reason: 'bad-checkpoint', segment: names[0] });
    // Without the key the chain itself looks consistent: that is what the key is for.
    expect(verifyAuditDir(dir, { key: undefined }).problem?.reason).not.toBe('hash-mismatch');
  });

  it('a property: hundreds of random mutations are all detected; the unmodified log always verifies', async () => {
    const dir = await log(30, 3000);
    const names = listSegments(dir);
    const original = new Map<string, Buffer>(names.map((n) => [n, readFileSync(join(dir, n))]));
    const source = (segments: Map<string, Buffer>) => ({ names: [...segments.keys()], read: (n: string) => segments.get(n) as Buffer });
    const head = JSON.parse(readFileSync(join(dir, 'head.json'), 'utf8'));
    expect(verifyLog(source(original), { key: TEST_KEY, head }).ok).toBe(true);

    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), segment: fc.nat(), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('delete-line' as const), segment: fc.nat(), line: fc.nat() }),
      fc.record({ kind: fc.constant('swap-lines' as const), segment: fc.nat(), line: fc.nat() }),
      fc.record({ kind: fc.constant('truncate' as const), segment: fc.nat(), keep: fc.nat() }),
      fc.record({ kind: fc.constant('drop-segment' as const), segment: fc.nat() }),
      fc.record({ kind: fc.constant('duplicate-line' as const), segment: fc.nat(), line: fc.nat() }),
      // Signatures: stripped, replaced by another key's, the body's "signed" flag dropped, the head mark's forged.
      fc.record({ kind: fc.constant('strip-sig' as const), segment: fc.nat() }),
      fc.record({ kind: fc.constant('foreign-sig' as const), segment: fc.nat() }),
      fc.record({ kind: fc.constant('unflag-signed' as const), segment: fc.nat() }),
      fc.record({ kind: fc.constant('forge-head-sig' as const), segment: fc.nat() }),
    );
    const signedLine = (lines: string[]) => lines.findIndex((l) => /,"sig":"[0-9a-f]{128}"\}$/.test(l));
    const mutate = (m: typeof mutation extends fc.Arbitrary<infer T> ? T : never): { segments: Map<string, Buffer>; head: typeof head } | undefined => {
      const segments = new Map<string, Buffer>(original);
      let markedHead = head;
      const name = names[m.segment % names.length] as string;
      const data = segments.get(name) as Buffer;
      const lines = data.toString('latin1').split('\n').slice(0, -1);
      const put = () => segments.set(name, Buffer.from(lines.map((l) => l + '\n').join(''), 'latin1'));
      switch (m.kind) {
        case 'strip-sig':
        case 'foreign-sig':
        case 'unflag-signed': {
          const i = signedLine(lines);
          if (i < 0) return undefined;
          const line = lines[i] as string;
          lines[i] =
            m.kind === 'strip-sig'
              ? line.replace(/,"sig":"[0-9a-f]{128}"/, '')
              : m.kind === 'foreign-sig'
                ? line.replace(/"sig":"[0-9a-f]{128}"/, `"sig":"${signText(signingKeyFrom(Buffer.alloc(32, 9)), 'x')}"`)
                : line.replace(',"signed":true', '');
          put();
          break;
        }
        case 'forge-head-sig':
          markedHead = { ...head, sig: signText(signingKeyFrom(Buffer.alloc(32, 9)), markMessage('head', head)) };
          break;
        default:
          return undefined;
      }
      return { segments, head: markedHead };
    };
    fc.assert(
      fc.property(mutation, (m) => {
        if (m.kind === 'strip-sig' || m.kind === 'foreign-sig' || m.kind === 'unflag-signed' || m.kind === 'forge-head-sig') {
          const mutated = mutate(m);
          if (!mutated) return true;
          // Caught with the key, and with the public key alone (an auditor's check).
          const withKey = verifyLog(source(mutated.segments), { key: TEST_KEY, head: mutated.head });
          const withPublicKey = verifyLog(source(mutated.segments), { publicKey: signingKeyFrom(TEST_KEY).publicKey, head: mutated.head });
          return !withKey.ok && !withPublicKey.ok;
        }
        const segments = new Map<string, Buffer>(original);
        const name = names[m.segment % names.length] as string;
        const data = segments.get(name) as Buffer;
        const lines = data.toString('latin1').split('\n').slice(0, -1);
        switch (m.kind) {
          case 'flip': {
            const copy = Buffer.from(data);
            const at = m.at % copy.length;
            copy[at] = (copy[at] as number) ^ (1 << m.bit);
            segments.set(name, copy);
            break;
          }
          case 'delete-line':
            lines.splice(m.line % lines.length, 1);
            segments.set(name, Buffer.from(lines.map((l) => l + '\n').join(''), 'latin1'));
            break;
          case 'swap-lines': {
            if (lines.length < 2) return true;
            const i = m.line % (lines.length - 1);
            [lines[i], lines[i + 1]] = [lines[i + 1] as string, lines[i] as string];
            segments.set(name, Buffer.from(lines.map((l) => l + '\n').join(''), 'latin1'));
            break;
          }
          case 'truncate':
            segments.set(name, data.subarray(0, m.keep % data.length));
            break;
          case 'drop-segment':
            segments.delete(name);
            break;
          case 'duplicate-line': {
            const i = m.line % lines.length;
            lines.splice(i, 0, lines[i] as string);
            segments.set(name, Buffer.from(lines.map((l) => l + '\n').join(''), 'latin1'));
            break;
          }
        }
        const report = verifyLog(source(segments), { key: TEST_KEY, head });
        return !report.ok && report.problem !== undefined;
      }),
      { numRuns: 600, seed: 20261122 },
    );
  });

  it('with the public key alone (no secret), an untouched log verifies and every structural tampering is caught', async () => {
    const dir = await log(40);
    const publicKey = signingKeyFrom(TEST_KEY).publicKey;
    const clean = verifyAuditDir(dir, { publicKey });
    expect(clean).toMatchObject({ ok: true, keyUsed: false });
    // Every seal, the first commit and the head mark (signed at close) are signed: the whole log is vouched for.
    expect(clean.signaturesChecked).toBeGreaterThanOrEqual(clean.segments);
    expect(clean.signedThrough).toBe(clean.lastSeq);
    const names = listSegments(dir);
    const last = names[names.length - 1] as string;
    const lines = segmentLines(dir, last);
    writeLines(dir, last, lines.slice(0, -1));
    expect(verifyAuditDir(dir, { publicKey }).problem?.reason).toBe('truncated');
    writeLines(dir, last, lines);
    // A forger without the key re-hashes a record and its successors: the signed seal or head no longer matches.
    const edited = lines.map((l, i) => (i === 0 ? l.replace('record', 'r3cord') : l));
    writeLines(dir, last, edited);
    expect(verifyAuditDir(dir, { publicKey }).ok).toBe(false);
  });
});

describe('the gateway verifies without blocking', () => {
  it('a property: the sliced, asynchronous verify reports exactly what the synchronous one does, on any damage', async () => {
    const dir = await log(1500, 64 * 1024);
    const names = listSegments(dir);
    const original = new Map<string, Buffer>(names.map((n) => [n, readFileSync(join(dir, n))]));
    const head = JSON.parse(readFileSync(join(dir, 'head.json'), 'utf8'));
    await fc.assert(
      fc.asyncProperty(fc.option(fc.record({ segment: fc.nat(), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }), cut: fc.boolean() }), { nil: undefined }), async (m) => {
        const segments = new Map(original);
        if (m) {
          const name = names[m.segment % names.length] as string;
          const copy = Buffer.from(segments.get(name) as Buffer);
          if (m.cut) segments.set(name, copy.subarray(0, m.at % copy.length));
          else {
            copy[m.at % copy.length] = (copy[m.at % copy.length] as number) ^ (1 << m.bit);
            segments.set(name, copy);
          }
        }
        const sync = verifyLog({ names, read: (n) => segments.get(n) as Buffer }, { key: TEST_KEY, head });
        // A slice of 0 ms gives way at every chance: the most interleaving there can be.
        const sliced = await verifyLogAsync({ names, read: async (n) => segments.get(n) as Buffer }, { key: TEST_KEY, head }, 0);
        expect(sliced).toEqual(sync);
        expect(sync.ok).toBe(m === undefined);
      }),
      { numRuns: 60 },
    );
  });
});

/**
 * The record format is written down (README, "Record format") precisely enough to re-implement, and
 * tools/verify-export.py is such a re-implementation: Python's standard library and `openssl`, no code shared
 * with Gatehouse. Attacks on an export an auditor receives, each a vector under test/fixtures/audit-vectors:
 *   - the same OS user edits a payload, removes or repeats a record, cuts the tail (the head mark in the header
 *     vouches for a later record), strips a signature or a commit mark;
 *   - a forger without the key re-chains everything after a removed record with plain SHA-256;
 *   - a forger signs with a key of their own (a record, the head mark) or names their own public key;
 *   - every signature and the signed head removed, so that nothing is vouched for;
 *   - a break the gateway recorded, which must keep the export failing;
 *   - a client payload holding the log's own structure words (`"kind":"checkpoint"`, `,"hash":"…"}`,
 *     `{"omitted":…}`, `"event":"break"`), which must not change how either verifier reads the export.
 * Both verifiers, and `gatehouse verify --export`, must give the same answer for each, and for exports of a real
 * session: whole, one session, and edited.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { checkExport } from '../../main/audit/export-check.js';
import { parsePublicKey } from '../../main/audit/signing.js';
import { VECTORS_DIR, vectorFiles, type Expected } from '../fixtures/audit-vectors/vectors.js';
import { runGatehouse } from '../helpers/cli.js';
import { startHarness } from '../helpers/gateway-harness.js';
import { everythingStdio } from '../helpers/servers.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';

const SCRIPT = join(import.meta.dirname, '../../tools/verify-export.py');
const PEM = join(VECTORS_DIR, 'public-key.pem');
const exec = promisify(execFile);

/** What both verifiers must agree on: the vectors' expected answers have the same shape. */
type Answer = Expected;

/** What the Python verifier says, reduced to what both verifiers must agree on. */
async function python(file: string, pem: string): Promise<Answer> {
  const done = await exec('python3', [SCRIPT, file, '--public-key', pem, '--json']).catch((err: { stdout: string; code: number }) => err);
  return reduce(JSON.parse(done.stdout) as Answer);
}

function reduce(a: Answer & { problem?: { reason: string; line: number } }): Answer {
  if (a.problem) return { ok: false, reason: a.problem.reason, line: a.problem.line };
  if (!a.ok) return { ok: false, reason: a.reason, line: a.line };
  return { ok: true, records: a.records, signedRecords: a.signedRecords, unsignedRecords: a.unsignedRecords };
}

const expectedOf = (e: Expected & { description?: string }): Answer => (e.ok ? { ok: true, records: e.records, signedRecords: e.signedRecords, unsignedRecords: e.unsignedRecords } : { ok: false, reason: e.reason, line: e.line });

describe('test vectors: the record format, the chain and its signatures, checked by two verifiers that share no code', () => {
  const expected = JSON.parse(readFileSync(join(VECTORS_DIR, 'expected.json'), 'utf8')) as Record<string, Expected & { description: string }>;
  const names = Object.keys(expected);
  const emptyHome = mkdtempSync(join(tmpdir(), 'gatehouse-auditor-'));
  afterAll(() => rmSync(emptyHome, { recursive: true, force: true }));

  it('the committed vectors are exactly what the code writes today', () => {
    const files = vectorFiles();
    const committed = readdirSync(VECTORS_DIR).filter((n) => n !== 'vectors.ts').sort();
    expect(committed).toEqual([...files.keys()].sort());
    for (const [name, text] of files) expect(readFileSync(join(VECTORS_DIR, name), 'utf8'), name).toBe(text);
  });

  it.each(names)('%s: gatehouse, the Python verifier and `gatehouse verify --export` give the same answer', async (name) => {
    const file = join(VECTORS_DIR, `${name}.jsonl`);
    const want = expectedOf(expected[name] as Expected);
    expect(reduce(checkExport(readFileSync(file, 'utf8'), parsePublicKey(PEM)) as Answer & { problem?: { reason: string; line: number } })).toEqual(want);
    expect(await python(file, PEM)).toEqual(want);
    // An auditor's machine: no Gatehouse data, no key, only the public key they were given.
    const cli = await runGatehouse(['verify', '--export', file, '--public-key', PEM, '--json'], { GATEHOUSE_HOME: emptyHome });
    expect(cli.code).toBe(want.ok ? 0 : 1);
    expect(reduce(JSON.parse(cli.stdout) as Answer & { problem?: { reason: string; line: number } })).toEqual(want);
  });

  it('the public key may be given as its 64-hex form too; a wrong one is refused with what was expected', async () => {
    const hex = readFileSync(join(VECTORS_DIR, 'public-key.hex'), 'utf8').trim();
    const ok = await runGatehouse(['verify', '--export', join(VECTORS_DIR, 'valid-full.jsonl'), '--public-key', hex], { GATEHOUSE_HOME: emptyHome });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/7 record\(s\) vouched for by a signature; 1 lie past the last signature/);
    const bad = await runGatehouse(['verify', '--export', join(VECTORS_DIR, 'valid-full.jsonl'), '--public-key', join(emptyHome, 'nope.pem')], { GATEHOUSE_HOME: emptyHome });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/cannot read the public key file .*nope\.pem \(ENOENT\)/);
    // Without any key, an export is not called intact: anyone can chain SHA-256 hashes.
    const none = await runGatehouse(['verify', '--export', join(VECTORS_DIR, 'valid-full.jsonl')], { GATEHOUSE_HOME: emptyHome });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/--public-key KEY/);
    expect((await runGatehouse(['verify', '--export', join(VECTORS_DIR, 'valid-full.jsonl'), '--chain-only'], { GATEHOUSE_HOME: emptyHome })).code).toBe(0);
  });
});

describe("an export of a real session, checked by an auditor with the log's public key alone", () => {
  it('whole and by session: both verifiers agree it is intact and how far the signatures reach; an edited copy both catch at the same line', async () => {
    const harness = await startHarness({ servers: { everything: everythingStdio() } }, { keepHome: true });
    const auditor = mkdtempSync(join(tmpdir(), 'gatehouse-auditor-'));
    try {
      const a = await harness.connect('everything', new Client({ name: 'a', version: '1' }));
      const b = await harness.connect('everything', new Client({ name: 'b', version: '1' }));
      for (let i = 0; i < 5; i++) {
        await a.callTool({ name: 'echo', arguments: { message: `a${i} "kind":"checkpoint" ,"sig":"${'f'.repeat(128)}"}` } });
        await b.callTool({ name: 'echo', arguments: { message: `b${i}` } });
      }
      const bId = (b.transport as { sessionId?: string }).sessionId as string;
      await a.close();
      await b.close();
      await harness.stop(); // shutdown signs the head mark
      const env = { GATEHOUSE_HOME: harness.home };
      const pem = join(auditor, 'gatehouse.pem');
      const printed = await runGatehouse(['public-key'], env);
      expect(printed.code).toBe(0);
      writeFileSync(pem, printed.stdout);

      const whole = join(auditor, 'whole.jsonl');
      const session = join(auditor, 'session.jsonl');
      expect((await runGatehouse(['export', '--out', whole], env)).code).toBe(0);
      expect((await runGatehouse(['export', '--session', bId, '--out', session], env)).code).toBe(0);
      for (const file of [whole, session]) {
        const ours = await runGatehouse(['verify', '--export', file, '--public-key', pem, '--json'], { GATEHOUSE_HOME: auditor });
        const theirs = await python(file, pem);
        expect(reduce(JSON.parse(ours.stdout) as Answer)).toEqual(theirs);
        expect(theirs.ok).toBe(true);
      }
      // Exported with the key, each export signs itself: every record is vouched for, the session's too.
      expect(await python(whole, pem)).toMatchObject({ ok: true, unsignedRecords: 0 });
      expect(await python(session, pem)).toMatchObject({ ok: true, unsignedRecords: 0 });
      // Without its own signature (stripped), the whole export still holds by the signatures in the log: the
      // head mark, signed at shutdown, reaches every record.
      const stripped = join(auditor, 'stripped.jsonl');
      writeFileSync(stripped, readFileSync(whole, 'utf8').replace(/\{"exportSignature".*\n$/, ''));
      expect(await python(stripped, pem)).toMatchObject({ ok: true, unsignedRecords: 0 });

      const text = readFileSync(whole, 'utf8');
      const edited = join(auditor, 'edited.jsonl');
      // (The answer's text by its own words: a bare `b3"` is also the end of one hash or signature in 256.)
      writeFileSync(edited, text.replace('"message":"b3"', '"message":"b4"').replace('Echo: b3"', 'Echo: b4"'));
      const ours = await runGatehouse(['verify', '--export', edited, '--public-key', pem, '--json'], { GATEHOUSE_HOME: auditor });
      expect(ours.code).toBe(1);
      const theirs = await python(edited, pem);
      expect(theirs).toMatchObject({ ok: false, reason: 'hash-mismatch' });
      expect(reduce(JSON.parse(ours.stdout) as Answer)).toEqual(theirs);
    } finally {
      rmSync(auditor, { recursive: true, force: true });
      rmSync(harness.home, { recursive: true, force: true });
    }
  });
});

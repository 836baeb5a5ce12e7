/*
 * Evidence that holds across restarts. The attacker is the same OS user without the key (as on the desktop,
 * where it sits in the keychain) editing the data directory while the gateway is stopped, then either running
 * `gatehouse verify` at once or starting the gateway again (new traffic) so that a restart might launder it:
 *  1. cut records off the tail;
 *  2. append records chained with plain SHA-256 (no key needed), or with a made-up commit mark;
 *  3. delete or empty head.json, and cut the tail;
 *  4. put back an older head.json and cut the log back to it (caught where a copy of the mark lives outside
 *     the data directory: the desktop's settings; headless it is not, as the threat model says);
 *  5. delete the key, so that verify has nothing to check checkpoints with;
 *  6. damage the session index, or leave it pointing past a cut tail, so that nothing starts.
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MarkCopy } from '../../main/audit/segment-writer.js';
import { listSegments } from '../../main/audit/segment-files.js';
import { startGatehouse } from '../../main/api/core.js';
import type { Mark } from '../../main/audit/verify.js';
import { readAllRecords } from '../helpers/audit-log.js';
import { runGatehouse } from '../helpers/cli.js';
import { startSpy, type Spy } from '../helpers/spy.js';
import { tempHome } from '../helpers/temp-home.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

let spy: Spy;
const cleanup: (() => void)[] = [];
afterEach(() => cleanup.splice(0).forEach((c) => c()));

function home(): string {
  spy = startSpy();
  const h = tempHome({ gateway: { port: 0 }, servers: { spy: spy.config } });
  cleanup.push(() => h.remove(), () => spy.remove());
  return h.dir;
}

/** Runs the gateway once: a session with `calls` tool calls, then a clean stop. */
async function traffic(dir: string, calls = 5, markCopy?: MarkCopy): Promise<void> {
  const g = await startGatehouse({ dataDir: dir, shell: 'headless', ...(markCopy ? { markCopy } : {}) });
  const client = new Client({ name: 'tamper-test', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${g.url}/mcp/spy`), { requestInit: { headers: { authorization: `Bearer ${g.token}` } } }));
  for (let i = 0; i < calls; i++) await client.callTool({ name: 'run_command', arguments: { command: `echo ${i}` } });
  await client.close();
  await g.stop();
}

const audit = (dir: string) => join(dir, 'audit');
const newest = (dir: string) => join(audit(dir), listSegments(audit(dir)).at(-1) as string);
const linesOf = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);
const cut = (dir: string, n: number) => {
  const file = newest(dir);
  writeFileSync(file, linesOf(file).slice(0, -n).map((l) => `${l}\n`).join(''));
};
const verify = (dir: string, ...args: string[]) => runGatehouse(['verify', ...args], { GATEHOUSE_HOME: dir });

/** Records a forger can write without the key: a valid SHA-256 chain, and (if asked) a made-up commit mark. */
function forge(dir: string, count: number, fakeMark = false): void {
  const file = newest(dir);
  const last = JSON.parse(linesOf(file).at(-1) as string) as { seq: number; hash: string };
  let [seq, prev] = [last.seq, last.hash];
  let text = '';
  for (let i = 0; i < count; i++) {
    seq++;
    const body = JSON.stringify({ seq, ts: new Date().toISOString(), kind: 'event', event: 'forged', detail: { i }, ...(fakeMark && i === count - 1 ? { commit: true } : {}), prev });
    const hash = createHash('sha256').update(body).digest('hex');
    text += `${body.slice(0, -1)},"hash":"${hash}"${fakeMark && i === count - 1 ? `,"mac":"${'ab'.repeat(32)}"` : ''}}\n`;
    prev = hash;
  }
  writeFileSync(file, readFileSync(file, 'utf8') + text);
}

describe('tampering with a stopped gateway\'s log is caught, with or without a restart in between', () => {
  it.each([false, true])('1. a cut tail (restart between: %s)', async (restart) => {
    const dir = home();
    await traffic(dir);
    cut(dir, 4);
    if (restart) await traffic(dir);
    const result = await verify(dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(restart ? /break-recorded: .*tail-cut|records \d+–\d+ were removed/ : /truncated|unvouched/);
  });

  it.each([false, true])('2. records appended with plain SHA-256 (restart between: %s): never part of the log', async (restart) => {
    const dir = home();
    await traffic(dir);
    forge(dir, 3);
    if (!restart) {
      const result = await verify(dir);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/unvouched: records \d+–\d+ are not vouched for/);
      return;
    }
    await traffic(dir);
    expect(readAllRecords(dir).filter((r) => r.event === 'forged')).toEqual([]);
    const repair = readAllRecords(dir).find((r) => r.event === 'repair');
    expect(repair?.detail).toMatchObject({ count: 3, reason: expect.stringMatching(/no key vouched for them/) });
    expect((await verify(dir)).code).toBe(0);
  });

  it('2. a made-up commit mark is caught by the key', async () => {
    const dir = home();
    await traffic(dir);
    forge(dir, 2, true);
    const result = await verify(dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/bad-commit: .*not made with the key/);
  });

  it.each([
    ['deleted', false],
    ['deleted', true],
    ['emptied', false],
    ['emptied', true],
  ] as const)('3. head.json %s and the tail cut (restart between: %s)', async (how, restart) => {
    const dir = home();
    await traffic(dir);
    cut(dir, 4);
    if (how === 'deleted') rmSync(join(audit(dir), 'head.json'));
    else writeFileSync(join(audit(dir), 'head.json'), '');
    if (restart) await traffic(dir);
    const result = await verify(dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(restart ? /break-recorded: .*head mark is missing/ : /missing-head/);
  });

  it('4. an older head.json put back and the log cut back to it: caught where a copy of the mark lives outside the data directory', async () => {
    const dir = home();
    let kept: Mark | undefined;
    const copy: MarkCopy = { read: () => kept, write: (m) => (kept = m) };
    await traffic(dir, 3, copy);
    const older = readFileSync(join(audit(dir), 'head.json'), 'utf8');
    const segment = readFileSync(newest(dir), 'utf8');
    await traffic(dir, 3, copy);
    writeFileSync(newest(dir), segment);
    writeFileSync(join(audit(dir), 'head.json'), older);
    // Headless, with no copy elsewhere, this cannot be seen: the log and its mark agree (the threat model says so).
    expect((await verify(dir)).code).toBe(0);
    await traffic(dir, 1, copy);
    const result = await verify(dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/break-recorded: .*rolled back/);
  });

  it('5. a deleted key: verify does not call the log intact; --chain-only checks hashes and order alone', async () => {
    const dir = home();
    await traffic(dir);
    rmSync(join(dir, 'audit.key'));
    const result = await verify(dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/audit key .* is missing/);
    const chain = await verify(dir, '--chain-only');
    expect(chain.code).toBe(0);
    expect(chain.stdout).toMatch(/hashes and order only/);
  });

  it('a break stays: more traffic and more restarts later, verify still fails and names it', async () => {
    const dir = home();
    await traffic(dir);
    cut(dir, 4);
    await traffic(dir);
    await traffic(dir);
    const result = await verify(dir, '--json');
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { breaks: { reason: string }[] };
    expect(report.breaks.map((b) => b.reason)).toEqual(['tail-cut']);
    // An auditor with the public key alone sees it too.
    const pem = join(dir, 'auditor.pem');
    writeFileSync(pem, (await runGatehouse(['public-key'], { GATEHOUSE_HOME: dir })).stdout);
    const audited = await verify(dir, '--public-key', pem);
    expect(audited.code).toBe(1);
    expect(audited.stderr).toMatch(/break-recorded/);
    // The UI's alarm comes from the session index, which finds breaks in what it covers even when it was
    // written before it indexed them.
    const indexFile = join(audit(dir), 'index', 'sessions.json');
    const index = JSON.parse(readFileSync(indexFile, 'utf8')) as { breaks?: unknown };
    delete index.breaks;
    writeFileSync(indexFile, JSON.stringify(index));
    const g = await startGatehouse({ dataDir: dir, shell: 'headless' });
    try {
      const status = await g.api.status();
      expect(status.auditBreaks?.map((b) => b.reason)).toEqual(['tail-cut']);
      expect((await g.api.integrity()).breaks).toHaveLength(1);
    } finally {
      await g.stop();
    }
  });

  it.each(['garbage', 'stale'] as const)('6. a %s session index never stops a start: it is rebuilt from the segments, and that is recorded', async (how) => {
    const dir = home();
    await traffic(dir);
    const file = join(audit(dir), 'index', 'sessions.json');
    if (how === 'garbage') writeFileSync(file, '{"version":1,"through":');
    else cut(dir, 6); // the index now points past the end of the newest segment
    await traffic(dir);
    expect(readAllRecords(dir).filter((r) => r.event === 'index-rebuilt')).toHaveLength(1);
    const sessions = await runGatehouse(['sessions', '--json'], { GATEHOUSE_HOME: dir });
    expect(sessions.code).toBe(0);
    expect((JSON.parse(sessions.stdout) as unknown[]).length).toBe(2);
  });
});

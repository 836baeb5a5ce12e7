import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runGatehouse } from '../helpers/cli.js';
import { tempHome } from '../helpers/temp-home.js';

// The demo keeps its folder in the data directory for the user to look at again (never in /tmp); each test's
// data directory is its own, removed afterwards.
const homes: { remove(): void }[] = [];
let env: Record<string, string> = {};
beforeEach(() => {
  const h = tempHome();
  homes.push(h);
  env = { GATEHOUSE_HOME: h.dir };
});
afterEach(() => homes.splice(0).forEach((h) => h.remove()));

describe('gatehouse demo', () => {
  it('runs a scripted session: a read, a masked secret, a denied call, an approved write, and an intact log', async () => {
    const result = await runGatehouse(['demo', '--approve', 'once'], env, undefined, 60_000);
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/policy refuses: {2}Gatehouse policy denied this call \(rule "no-env-writes"\)/);
    expect(out).toMatch(/The call goes on: {2}"Successfully wrote to .*notes\.md"/);
    expect(out).toMatch(/AWS_ACCESS_KEY_ID=\[MASKED:aws-access-key:[0-9a-f]{8}\]/);
    expect(out).not.toMatch(/#\d+ .*AKIADEMO7GATEHOUSE42/);
    expect(out).toMatch(/Audit log intact: \d+ records/);
  });

  it('leaves nothing in the temp folder, and its "look again" line works as typed', async () => {
    const before = new Set(readdirSync(tmpdir()));
    const result = await runGatehouse(['demo', '--approve', 'once'], env, undefined, 60_000);
    expect(result.code, result.stderr).toBe(0);
    expect(readdirSync(tmpdir()).filter((n) => !before.has(n) && n.startsWith('gatehouse-demo'))).toEqual([]);
    const hint = /Look again with: {2}GATEHOUSE_HOME=(\S+) (.+?) sessions {3}/.exec(result.stdout);
    expect(hint?.[1]).toContain(env.GATEHOUSE_HOME);
    // As a user pastes it into a shell with this project's PATH.
    const listed = execFileSync('sh', ['-c', `GATEHOUSE_HOME=${hint?.[1]} ${hint?.[2]} sessions`], { encoding: 'utf8', env: process.env });
    expect(listed).toMatch(/demo|files/);
  });

  it('--approve deny --json: the write is refused with the reason, reported as one JSON document', async () => {
    const result = await runGatehouse(['demo', '--approve', 'deny', '--json'], env, undefined, 60_000);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { steps: string[]; records: { seq: number; kind: string; summary: string }[]; verified: { ok: boolean; records: number }; session: string; lookAgain: string };
    expect(report.steps.some((s) => /The call is refused: .*the demo says no/.test(s))).toBe(true);
    expect(report.records.some((r) => r.kind === 'decision')).toBe(true);
    expect(report.verified).toMatchObject({ ok: true });
    expect(report.session).toMatch(/\S/);
    expect(result.stdout).not.toContain('AKIADEMO7GATEHOUSE42');
    // --json asks nothing and reports once: a prompt or --keep with it is a mistake, said in one line.
    for (const args of [['--approve', 'prompt'], ['--keep']]) {
      const wrong = await runGatehouse(['demo', '--json', ...args], env);
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toMatch(/^gatehouse demo: --json /);
    }
  });
});

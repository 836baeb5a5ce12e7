import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runGatehouse } from '../helpers/cli.js';

// The demo leaves its folder for the user to look at again; the tests remove it (it names it on its last lines).
const left: string[] = [];
const keep = (out: string) => {
  const home = /GATEHOUSE_HOME=(\S+) gatehouse sessions/.exec(out)?.[1];
  if (home) left.push(dirname(home));
  return out;
};
afterEach(() => left.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('gatehouse demo', () => {
  it('runs a scripted session: a read, a masked secret, a denied call, an approved write, and an intact log', async () => {
    const result = await runGatehouse(['demo', '--approve', 'once'], {}, undefined, 60_000);
    expect(result.code, result.stderr).toBe(0);
    const out = keep(result.stdout);
    expect(out).toMatch(/policy refuses: {2}Gatehouse policy denied this call \(rule "no-env-writes"\)/);
    expect(out).toMatch(/The call goes on: {2}"Successfully wrote to .*notes\.md"/);
    expect(out).toMatch(/AWS_ACCESS_KEY_ID=\[MASKED:aws-access-key:[0-9a-f]{8}\]/);
    expect(out).not.toMatch(/#\d+ .*AKIADEMO7GATEHOUSE42/);
    expect(out).toMatch(/Audit log intact: \d+ records/);
  });

  it('--approve deny: the write is refused with the reason', async () => {
    const result = await runGatehouse(['demo', '--approve', 'deny'], {}, undefined, 60_000);
    keep(result.stdout);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/The call is refused: .*the demo says no/);
  });
});

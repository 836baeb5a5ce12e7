import { describe, expect, it } from 'vitest';
import { runGatehouse } from '../helpers/cli.js';

describe('gatehouse demo', () => {
  it('runs a scripted session: a read, a masked secret, a denied call, an approved write, and an intact log', async () => {
    const result = await runGatehouse(['demo', '--approve', 'once'], {}, undefined, 60_000);
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/policy refuses: {2}Gatehouse policy denied this call \(rule "no-env-writes"\)/);
    expect(out).toMatch(/The call goes on: {2}"Successfully wrote to .*notes\.md"/);
    expect(out).toMatch(/AWS_ACCESS_KEY_ID=\[MASKED:aws-access-key:[0-9a-f]{8}\]/);
    expect(out).not.toMatch(/#\d+ .*AKIADEMO7GATEHOUSE42/);
    expect(out).toMatch(/Audit log intact: \d+ records/);
  });

  it('--approve deny: the write is refused with the reason', async () => {
    const result = await runGatehouse(['demo', '--approve', 'deny'], {}, undefined, 60_000);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/The call is refused: .*the demo says no/);
  });
});

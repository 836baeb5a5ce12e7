import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runGatehouse } from '../helpers/cli.js';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { everythingStdio, filesystemStdio } from '../helpers/servers.js';

const SEEDED = {
  aws: 'AKIAQWERTYUIOPASDFGH',
  github: 'ghp_R8kq2LmZ5vX9wT3nB7cY1dF6gH4jK0pQsUeW',
  jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJnYXRlaG91c2UtdGVzdCJ9.u8Y0sD3pLq9vXc2NmB7kR4tW1zA6eG5hJ0oI',
  email: 'ada.lovelace@analytical.example',
  card: '4012 8888 8888 1881',
  dbPassword: 'Tr0ub4dor-and-3',
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('masking: secrets and personal data never stored in clear text', () => {
  let harness: Harness | undefined;
  let root: string;
  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  async function session(inline: boolean): Promise<{ client: Client; id: string; read: string }> {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'gatehouse-secrets-')));
    writeFileSync(join(root, 'config.env'), `AWS_ACCESS_KEY_ID=${SEEDED.aws}\nOWNER=${SEEDED.email}\nCARD=${SEEDED.card}\nDATABASE_URL=postgres://app:${SEEDED.dbPassword}@db:5432/app\n`);
    harness = await startHarness({
      servers: { files: filesystemStdio(root), everything: everythingStdio() },
      masking: { detectors: ['secrets', 'email', 'credit-card', 'ip'], inline },
    });
    const client = await harness.connect('files', new Client({ name: 'secretive', version: '1' }));
    const read = JSON.stringify(await client.callTool({ name: 'read_text_file', arguments: { path: join(root, 'config.env') } }));
    await client.callTool({ name: 'write_file', arguments: { path: join(root, 'token.txt'), content: `token ${SEEDED.github}` } });
    const everything = await harness.connect('everything');
    await everything.callTool({ name: 'echo', arguments: { message: `jwt ${SEEDED.jwt} for ${SEEDED.email}` } });
    await harness.gatehouse.audit.log.flush();
    await harness.gatehouse.audit.index.persistNow();
    return { client, id: (client.transport as { sessionId?: string }).sessionId as string, read };
  }

  it('after a session, no seeded value is anywhere in the data directory; replay shows masked tokens; the client saw the real values', async () => {
    const { id, read } = await session(false);
    expect(read).toContain(SEEDED.aws); // masking.inline is off: the client gets what the server sent
    const files = filesUnder(harness!.home);
    expect(files.some((f) => f.endsWith('.jsonl'))).toBe(true);
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const [name, value] of Object.entries(SEEDED)) expect(text.includes(value), `${name} found in clear text in ${file}`).toBe(false);
    }
    const replay = (await runGatehouse(['replay', id], { GATEHOUSE_HOME: harness!.home })).stdout;
    expect(replay).toMatch(/\[MASKED:aws-access-key:[0-9a-f]{8}\]/);
    expect(replay).toMatch(/\[MASKED:email:[0-9a-f]{8}\]/);
    expect(replay).toMatch(/\[MASKED:credit-card:[0-9a-f]{8}\]/);
    expect(replay).toMatch(/content="token \[MASKED:github-token:[0-9a-f]{8}\]"/);
  });

  it('with masking.inline the client receives the masked values too', async () => {
    const { read } = await session(true);
    expect(read).not.toContain(SEEDED.aws);
    expect(read).not.toContain(SEEDED.email);
    // Without the keyed hash: a client that could see the token of a value it guessed could test guesses of a
    // low-entropy secret against it (send the guess through an echoing tool, compare the tokens).
    expect(read).toContain('[MASKED:aws-access-key]');
    expect(read).toContain('postgres://app:[MASKED:url-password]@db');
    expect(read).not.toMatch(/\[MASKED:[a-z0-9-]+:[0-9a-f]{8}\]/);
  });
});

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { everythingStdio, serverScript } from '../helpers/servers.js';

const require = createRequire(import.meta.url);
const INSPECTOR_BUILD = join(dirname(require.resolve('@modelcontextprotocol/inspector-cli/package.json')), 'build');
const INSPECTOR_BIN = join(INSPECTOR_BUILD, 'cli.js');

/** Runs `mcp-inspector-cli --cli …`; it prints the method's JSON result. */
function inspector(args: string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    // inspector-cli 1.0.3 finds its own package.json relative to the working directory, so it runs from its build folder.
    const child = spawn(process.execPath, [INSPECTOR_BIN, '--cli', ...args], { cwd: INSPECTOR_BUILD, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const json = out.slice(out.indexOf('{'));
      if (code !== 0) return reject(new Error(`inspector-cli exited ${code}:\n${out}\n${err}`));
      resolve(JSON.parse(json));
    });
  });
}

describe('a client nobody here wrote: @modelcontextprotocol/inspector-cli', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ servers: { everything: everythingStdio() } });
  });
  afterAll(() => harness?.stop());

  const direct = () => ['node', serverScript('@modelcontextprotocol/server-everything'), 'stdio'];
  const through = () => [harness.endpoint('everything').href, '--transport', 'http', '--header', `Authorization: Bearer ${harness.gatehouse.token}`];

  it('gets the same tools/call answer through Gatehouse as direct', async () => {
    const call = ['--method', 'tools/call', '--tool-name', 'get-sum', '--tool-arg', 'a=19', 'b=23'];
    const [viaGatehouse, viaStdio] = await Promise.all([inspector([...through(), ...call]), inspector([...direct(), ...call])]);
    expect(viaGatehouse).toEqual(viaStdio);
    expect(JSON.stringify(viaGatehouse)).toContain('42');
  });

  it('gets the same tools/list and resources/read through Gatehouse as direct', async () => {
    for (const method of [['--method', 'tools/list'], ['--method', 'resources/read', '--uri', 'demo://resource/static/document/architecture.md']]) {
      const [viaGatehouse, viaStdio] = await Promise.all([inspector([...through(), ...method]), inspector([...direct(), ...method])]);
      expect(viaGatehouse).toEqual(viaStdio);
    }
  });
});

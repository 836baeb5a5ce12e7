import { Client, type ClientOptions } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitFor, type Harness } from '../helpers/gateway-harness.js';
import { answerServerRequests, clientCapabilities, exerciseEverything, exerciseFilesystem, noRootsCapabilities } from '../helpers/mcp-scenario.js';
import { everythingStdio, filesystemStdio } from '../helpers/servers.js';

const BIN = join(import.meta.dirname, '../../bin/gatehouse.js');

function newClient(options: ClientOptions = clientCapabilities): Client {
  const client = new Client({ name: 'parity-client', version: '9.9.9' }, options);
  answerServerRequests(client, { roots: options === clientCapabilities });
  return client;
}

async function direct(command: { command: string; args: string[] }, client = newClient()): Promise<Client> {
  await client.connect(new StdioClientTransport({ ...command, stderr: 'ignore' }));
  return client;
}

/** A client that reaches the gateway the way Claude Desktop would: spawning `gatehouse connect SERVER`. */
async function viaConnect(home: string, server: string, client = newClient()): Promise<Client> {
  await client.connect(
    new StdioClientTransport({ command: process.execPath, args: [BIN, 'connect', server], env: { GATEHOUSE_HOME: home }, stderr: 'ignore' }),
  );
  return client;
}

describe('the gateway is transparent', () => {
  let harness: Harness;
  let root: string;

  beforeAll(async () => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'gatehouse-fs-')));
    harness = await startHarness({ servers: { everything: everythingStdio(), files: filesystemStdio(root) } });
  });
  afterAll(async () => {
    await harness?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('server-everything answers the same directly, over Streamable HTTP, and through `gatehouse connect`', async () => {
    const clients = { direct: await direct(everythingStdio()), http: await harness.connect('everything', newClient()), shim: await viaConnect(harness.home, 'everything') };
    try {
      const results = await Promise.all(Object.values(clients).map((c) => exerciseEverything(c)));
      const [d, h, s] = results as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
      expect(d.progressArrived).toBe(true);
      expect(d.cancel).toBe('cancelled');
      expect(JSON.stringify(d.sampling)).toContain('a sampled answer');
      expect(h).toEqual(d);
      expect(s).toEqual(d);
    } finally {
      await Promise.all(Object.values(clients).map((c) => c.close()));
    }
  });

  it('server-filesystem answers the same directly, over Streamable HTTP, and through `gatehouse connect`', async () => {
    const runs: Record<string, unknown>[] = [];
    const plain = () => newClient(noRootsCapabilities);
    for (const open of [() => direct(filesystemStdio(root), plain()), () => harness.connect('files', plain()), () => viaConnect(harness.home, 'files', plain())]) {
      const client = await open();
      try {
        runs.push(await exerciseFilesystem(client, root));
      } finally {
        await client.close();
      }
    }
    const [d, h, s] = runs;
    expect(JSON.stringify(d?.read)).toContain('written through MCP');
    expect(h).toEqual(d);
    expect(s).toEqual(d);
  });

  it('carries the server\'s roots/list request to the client and the answer back, both ways in', async () => {
    for (const open of [() => harness.connect('files', newClient()), () => viaConnect(harness.home, 'files')]) {
      const client = await open();
      try {
        // The filesystem server asks for roots after initialization and then serves only them ("/tmp" here).
        await waitFor(async () => {
          const allowed = await client.callTool({ name: 'list_allowed_directories', arguments: {} });
          return JSON.stringify(allowed).includes('Allowed directories:\\n/tmp"');
        }, 10_000, 'the client\'s roots to reach the filesystem server');
      } finally {
        await client.close();
      }
    }
  });

  it('reports the client name and version from initialize', async () => {
    const client = await harness.connect('everything', new Client({ name: 'named-client', version: '4.5.6' }));
    const live = await harness.gatehouse.api.liveSessions();
    expect(live).toContainEqual(expect.objectContaining({ server: 'everything', client: { name: 'named-client', version: '4.5.6' }, protocolVersion: '2025-11-25' }));
    await client.close();
  });
});

/**
 * Finding the MCP clients' configs. What would mislead a user about where their servers are: a client's
 * file at another platform's path, a format read wrongly (JSONC comments in VS Code's files, Windsurf's
 * `serverUrl`, Gemini's `httpUrl`, Claude Code's per-project servers in ~/.claude.json), an entry already
 * wired reported as not, a file that does not parse made to look empty (or, worse, touched). And hostile
 * input: any JSON at all in a config must be read without throwing.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { configLocations } from '../../../main/clients/client-catalogue.js';
import { discoverClients, gatewayEndpoint, missingShim, serversIn } from '../../../main/clients/discover.js';
import { runGatehouse } from '../../helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'gatehouse-clients-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const put = (file: string, text: string) => {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
};

describe('client configs', () => {
  it('knows each client at its Linux, macOS and Windows path', () => {
    const files = (os: NodeJS.Platform) => configLocations({ os, home: '/h', appData: 'C:\\Users\\me\\AppData\\Roaming', cwd: '/p' }).filter((l) => l.client === 'claude-desktop' || l.client === 'vscode').map((l) => l.file);
    expect(files('linux')).toEqual(['/h/.config/Claude/claude_desktop_config.json', '/h/.config/Code/User/mcp.json', '/h/.config/Code/User/settings.json', '/p/.vscode/mcp.json']);
    expect(files('darwin')[0]).toBe('/h/Library/Application Support/Claude/claude_desktop_config.json');
    expect(files('win32')[0]).toContain(join('C:\\Users\\me\\AppData\\Roaming', 'Claude', 'claude_desktop_config.json'));
  });

  it('reads every client in its own format, with comments, unrelated keys and entries already through Gatehouse', () => {
    const home = join(root, 'home');
    const cwd = join(root, 'project');
    put(join(home, '.config', 'Claude', 'claude_desktop_config.json'), JSON.stringify({ mcpServers: { files: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/home/me'] }, gh: { command: 'node', args: ['/opt/gatehouse/bin/gatehouse.js', 'connect', 'gh'] }, pg: { command: 'uvx', args: ['mcp-server-postgres', 'postgres://app:Zq8vClientPw@db/app'] } }, theme: 'dark' }, null, 2));
    put(join(home, '.claude.json'), JSON.stringify({ numStartups: 4, mcpServers: { memory: { type: 'stdio', command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory'], env: { TOKEN: 'x' } } }, projects: { [cwd]: { mcpServers: { tracker: { type: 'http', url: 'https://mcp.example.com/mcp', headers: { 'X-Team': 'a' } } } } } }));
    put(join(cwd, '.mcp.json'), JSON.stringify({ mcpServers: { db: { command: 'uvx', args: ['mcp-server-postgres', 'postgres://app:pw@db/app'] } } }));
    put(join(home, '.config', 'Code', 'User', 'mcp.json'), '{\n  // my servers\n  "servers": {\n    "local": { "type": "http", "url": "http://127.0.0.1:5757/mcp/local", }, // through Gatehouse\n  },\n}\n');
    put(join(home, '.codeium', 'windsurf', 'mcp_config.json'), JSON.stringify({ mcpServers: { remote: { serverUrl: 'https://w.example.com/sse' } } }));
    put(join(home, '.gemini', 'settings.json'), JSON.stringify({ theme: 'x', mcpServers: { stream: { httpUrl: 'https://g.example.com/mcp' } } }));
    put(join(home, '.cursor', 'mcp.json'), '{ "mcpServers": { "broken": ');
    const found = discoverClients({ os: 'linux', home, cwd });
    const summary = found.map((c) => [c.client, c.scope, c.servers.map((s) => `${s.name}:${s.kind}${s.viaGatehouse ? ':via' : ''}`).join(','), c.error ? 'error' : '']);
    expect(summary).toEqual([
      ['claude-desktop', 'user', 'files:stdio,gh:stdio:via,pg:stdio', ''],
      ['claude-code', 'user', 'memory:stdio', ''],
      ['claude-code', 'user', 'tracker:http', ''],
      ['claude-code', 'project', 'db:stdio', ''],
      ['cursor', 'user', '', 'error'],
      ['vscode', 'user', 'local:http:via', ''],
      ['windsurf', 'user', 'remote:http', ''],
      ['gemini', 'user', 'stream:http', ''],
    ]);
    expect(found.find((c) => c.client === 'cursor')?.error).toMatch(/mcp\.json:1: .*left as it is/);
    expect(found.find((c) => c.client === 'claude-code' && c.scope === 'user' && c.path.length === 1)?.servers[0]).toMatchObject({ command: 'npx', env: { TOKEN: 'x' } });
  });

  // An entry with both a command and a URL (or Gemini's `httpUrl` and `url`) is read as its client reads it: what
  // Gatehouse imported would otherwise be another server than the one the user ran.
  it('reads the transport each client would use: `type` first, then Gemini\'s httpUrl, url, command; the others\' command first', () => {
    const pick = (client: Parameters<typeof serversIn>[2], entry: Record<string, unknown>) => {
      const s = serversIn({ s: entry }, undefined, client)[0];
      return s === undefined ? undefined : s.kind === 'stdio' ? `stdio ${s.command}` : `http ${s.url}${s.transport ? ` ${s.transport}` : ''}`;
    };
    const both = { command: 'npx', url: 'https://a.example.com/mcp' };
    expect(pick('gemini', { ...both, httpUrl: 'https://h.example.com/mcp' })).toBe('http https://h.example.com/mcp streamable-http');
    expect(pick('gemini', both)).toBe('http https://a.example.com/mcp');
    expect(pick('gemini', { ...both, type: 'sse' })).toBe('http https://a.example.com/mcp sse');
    expect(pick('gemini', { command: 'npx' })).toBe('stdio npx');
    for (const client of ['claude-code', 'claude-desktop', 'cursor', 'vscode', 'windsurf'] as const) {
      expect(pick(client, both), client).toBe('stdio npx');
      expect(pick(client, { ...both, type: 'http' }), client).toBe('http https://a.example.com/mcp streamable-http');
      expect(pick(client, { ...both, type: 'sse' }), client).toBe('http https://a.example.com/mcp sse');
      expect(pick(client, { ...both, type: 'stdio' }), client).toBe('stdio npx');
    }
    expect(pick('windsurf', { serverUrl: 'https://w.example.com/sse' })).toBe('http https://w.example.com/sse');
    // A type the client would not start (a URL type without a URL) is no server to import.
    expect(pick('vscode', { command: 'npx', type: 'http' })).toBeUndefined();
  });

  it('a property: any JSON under a servers key is read without throwing, and only well-formed entries count', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const servers = serversIn(value);
        for (const s of servers) expect(s.kind === 'stdio' ? typeof s.command : typeof s.url).toBe('string');
      }),
      { numRuns: 300 },
    );
  });

  it('`gatehouse clients --json` lists them, with targets masked', async () => {
    const out = await runGatehouse(['clients', '--json'], { HOME: join(root, 'home'), GATEHOUSE_HOME: join(root, 'gh') });
    expect(out.code).toBe(0);
    const listed = JSON.parse(out.stdout) as { client: string; servers: { name: string; target: string }[] }[];
    expect(listed.map((c) => c.client)).toContain('claude-desktop');
    expect(out.stdout).toContain('postgres://app:[MASKED:url-password:');
    expect(out.stdout).not.toContain('Zq8vClientPw');
    // A wired entry whose gatehouse is gone (an installation moved or removed) is called broken, with what to do.
    const desktop = JSON.parse(out.stdout).find((c: { client: string }) => c.client === 'claude-desktop') as { servers: { name: string; missing?: string }[] };
    expect(desktop.servers.find((x) => x.name === 'gh')?.missing).toBe('/opt/gatehouse/bin/gatehouse.js');
    const plain = await runGatehouse(['clients'], { HOME: join(root, 'home'), GATEHOUSE_HOME: join(root, 'gh') });
    expect(plain.stderr).toContain('warning: Claude Desktop\'s "gh" it starts /opt/gatehouse/bin/gatehouse.js, which is no longer there: `gatehouse clients unwire claude-desktop` then `gatehouse clients wire claude-desktop`');
  });

  it('a wired entry is broken when what it starts is gone: a path that is not there, a bare name not on the PATH', () => {
    const bin = join(root, 'bin');
    put(join(bin, 'gatehouse'), '#!/bin/sh\n');
    const shim = (command: string, args: string[]) => serversIn({ s: { command, args: [...args, 'connect', 's'] } })[0] as Parameters<typeof missingShim>[0];
    expect(missingShim(shim('gatehouse', []), bin)).toBeUndefined();
    expect(missingShim(shim('gatehouse', []), join(root, 'nowhere'))).toBe('gatehouse');
    expect(missingShim(shim(process.execPath, [join(bin, 'gatehouse')]), '')).toBeUndefined();
    expect(missingShim(shim(process.execPath, [join(root, 'gone', 'gatehouse.js')]), '')).toBe(join(root, 'gone', 'gatehouse.js'));
    // Not a wired entry: nothing to say.
    expect(missingShim(serversIn({ s: { command: '/gone/server' } })[0] as Parameters<typeof missingShim>[0], '')).toBeUndefined();
  });
});

describe('the gateway endpoint, however it is spelled', () => {
  it('is the gateway on its port in every loopback spelling, and nothing else', () => {
    for (const url of ['http://127.0.0.1:5757/mcp/files', 'HTTP://LOCALHOST:5757/mcp/files', 'http://127.1:5757/mcp/files', 'http://0.0.0.0:5757/mcp/files', 'http://localhost.:5757/mcp/files', 'http://[::ffff:127.0.0.1]:5757/mcp/files', 'http://127.0.0.1:5757/mcp/files/../files', 'http://localhost:5757//mcp/files', 'http://[::1]:5757/mcp/files/']) {
      expect(gatewayEndpoint(url, 5757), url).toBe(true);
    }
    for (const url of ['http://127.0.0.1:3000/mcp/files', 'http://example.com:5757/mcp/files', 'http://127.0.0.1:5757/other/files', 'ftp://127.0.0.1:5757/mcp/files', 'not a url']) expect(gatewayEndpoint(url, 5757), url).toBe(false);
  });
});

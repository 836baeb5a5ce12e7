/**
 * Wiring the user's MCP clients through Gatehouse, and putting them back. What would hurt the user: a file
 * rewritten beyond the entries (comments, formatting, unrelated settings lost), a token written into a config
 * file, a wired entry that does not actually start (or reach) anything, a second wire that changes things
 * again, an unwire that is not byte for byte, a client's own edit between wire and unwire lost, a conflict
 * guessed, two clients' different servers of one name merged into one, a file that does not parse touched.
 * Real files in a temporary HOME; the wired entry is started as the client would start it (an SDK client
 * spawning its command) against a real gateway and server-everything.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { parse } from 'jsonc-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { runGatehouse, startServe } from '../helpers/cli.js';
import { everythingStdio } from '../helpers/servers.js';
import { put, tempHome } from '../helpers/temp-home.js';

const root = mkdtempSync(join(tmpdir(), 'gatehouse-wire-'));
const gh = tempHome({ gateway: { port: 0 } });
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  gh.remove();
});
const env = { HOME: root, GATEHOUSE_HOME: gh.dir };
const everything = everythingStdio();
const desktopFile = join(root, '.config', 'Claude', 'claude_desktop_config.json');
const vscodeFile = join(root, '.config', 'Code', 'User', 'mcp.json');
const cursorFile = join(root, '.cursor', 'mcp.json');
const desktop = `${JSON.stringify({ globalShortcut: 'Ctrl+Space', mcpServers: { everything: { command: everything.command, args: everything.args, env: { API_TOKEN: 'Zq8vWireSecret' } } }, theme: 'dark' }, null, 2)}\n`;
const vscode = `{\n\t// my servers, by hand\n\t"servers": {\n\t\t"everything": { "type": "stdio", "command": "npx", "args": ["-y", "@modelcontextprotocol/server-everything"] }, // another definition\n\t},\n\t"inputs": []\n}\n`;
const cursor = '{ "mcpServers": { "half": ';

describe('gatehouse clients wire / unwire', () => {
  it('wires each client, the entry reaches its server through Gatehouse, and unwire is byte for byte', async () => {
    put(desktopFile, desktop);
    put(vscodeFile, vscode);
    put(cursorFile, cursor);
    const wired = await runGatehouse(['clients', 'wire', '--all'], env);
    expect(wired.code).toBe(1); // Cursor's file does not parse: named, and left alone
    expect(wired.stderr).toMatch(/mcp\.json:1: .*left as it is/);
    expect(readFileSync(cursorFile, 'utf8')).toBe(cursor);
    expect(wired.stdout).toMatch(/Claude Desktop: .*everything now start `gatehouse connect`/);
    expect(wired.stdout).toMatch(/"everything" is defined differently by another client: imported as "everything-vscode"/);

    // The rest of each file is as it was (and no token is in it: checked once the gateway has made one).
    const vs = readFileSync(vscodeFile, 'utf8');
    expect(vs).toContain('// my servers, by hand');
    expect(vs).toContain('"inputs": []');
    const desk = JSON.parse(readFileSync(desktopFile, 'utf8')) as { globalShortcut: string; theme: string; mcpServers: { everything: { command: string; args: string[]; env?: Record<string, string> } } };
    expect(desk).toMatchObject({ globalShortcut: 'Ctrl+Space', theme: 'dark' });
    const config = readFileSync(join(gh.dir, 'gatehouse.yaml'), 'utf8');
    expect(config).toContain('everything-vscode:');

    // Started as Claude Desktop would start it: the wired entry reaches server-everything through the gateway.
    const serve = await startServe(['--port', '0'], { GATEHOUSE_HOME: gh.dir });
    try {
      const token = readFileSync(join(gh.dir, 'token'), 'utf8').trim();
      for (const f of [desktopFile, vscodeFile]) expect(readFileSync(f, 'utf8')).not.toContain(token);
      const entry = desk.mcpServers.everything;
      const client = new Client({ name: 'wired-desktop', version: '1' });
      // The client's own environment knows nothing of this data directory: the entry itself must name it.
      expect(entry.env).toEqual({ GATEHOUSE_HOME: gh.dir });
      await client.connect(new StdioClientTransport({ command: entry.command, args: entry.args, env: { ...getDefaultEnvironment(), ...entry.env }, stderr: 'ignore' }));
      expect(JSON.stringify(await client.callTool({ name: 'echo', arguments: { message: 'through the wiring' } }))).toContain('through the wiring');
      await client.close();
    } finally {
      const exited = new Promise((r) => serve.child.once('exit', r));
      serve.child.kill('SIGTERM');
      await exited;
    }

    // Twice changes nothing.
    const before = readFileSync(desktopFile, 'utf8');
    const again = await runGatehouse(['clients', 'wire', 'claude-desktop'], env);
    expect(again.stdout).toContain('already goes through Gatehouse; nothing changed');
    expect(readFileSync(desktopFile, 'utf8')).toBe(before);

    const unwired = await runGatehouse(['clients', 'unwire', 'claude-desktop'], env);
    expect(unwired.code).toBe(0);
    expect(unwired.stdout).toContain('restored byte for byte');
    expect(readFileSync(desktopFile, 'utf8')).toBe(desktop);
    expect((await runGatehouse(['clients', 'backups'], env)).stdout).toContain(vscodeFile);
  });

  it("a client's own edit between wire and unwire is kept; an entry it changed itself is a conflict, left alone", async () => {
    // VS Code is still wired from the first test. The user adds a setting meanwhile:
    const wiredText = readFileSync(vscodeFile, 'utf8');
    writeFileSync(vscodeFile, wiredText.replace('"inputs": []', '"inputs": [],\n\t"their-own": true'));
    const unwired = await runGatehouse(['clients', 'unwire', 'vscode'], env);
    expect(unwired.code).toBe(0);
    expect(unwired.stdout).toContain("keeping the client's own changes");
    const text = readFileSync(vscodeFile, 'utf8');
    expect(text).toContain('"their-own": true');
    expect(text).toContain('// my servers, by hand');
    expect((parse(text) as { servers: unknown }).servers).toEqual((parse(vscode) as { servers: unknown }).servers);

    // Wired again, then the user edits the wired entry itself: unwire reports it and does not guess.
    expect((await runGatehouse(['clients', 'wire', 'vscode'], env)).code).toBe(0);
    writeFileSync(vscodeFile, readFileSync(vscodeFile, 'utf8').replace('"connect"', '"connect", "--wait", "5s"'));
    const conflicted = await runGatehouse(['clients', 'unwire', 'vscode'], env);
    expect(conflicted.code).toBe(1);
    expect(conflicted.stdout).toMatch(/"everything" was changed since it was wired: left as it is now/);
    expect(readFileSync(vscodeFile, 'utf8')).toContain('"--wait", "5s"');
  });

  // A project's `.mcp.json` is usually committed: wired, it names this machine's Gatehouse (an absolute path to
  // this checkout), which would break the server for everyone else if committed. Wiring says so when git tracks it.
  it('says so when a wired project file is tracked by git, and not when it is not', async () => {
    const project = join(root, 'repo');
    const other = join(root, 'scratch-project');
    const mcp = `${JSON.stringify({ mcpServers: { team: { command: 'node', args: ['/srv/team-server.js'] } } }, null, 2)}\n`;
    put(join(project, '.mcp.json'), mcp);
    put(join(other, '.mcp.json'), mcp.replace('team', 'mine'));
    const git = (...args: string[]) => execFileSync('git', ['-C', project, ...args], { stdio: 'ignore', env: { ...process.env, HOME: root } });
    git('init', '-q');
    git('add', '.mcp.json');
    const tracked = await runGatehouse(['clients', 'wire', 'claude-code'], env, undefined, 30_000, project);
    expect(tracked.code, tracked.stderr).toBe(0);
    expect(tracked.stdout).toContain(`${join(project, '.mcp.json')} is tracked by git`);
    expect(tracked.stdout).toMatch(/do not commit it wired/);
    const untracked = await runGatehouse(['clients', 'wire', 'claude-code'], env, undefined, 30_000, other);
    expect(untracked.code, untracked.stderr).toBe(0);
    expect(untracked.stdout).toContain('mine now start');
    expect(untracked.stdout).not.toContain('tracked by git');
    // (Unwire puts back every file of the client that was wired, wherever it is run.)
    expect((await runGatehouse(['clients', 'unwire', 'claude-code'], env)).code).toBe(0);
    expect(readFileSync(join(project, '.mcp.json'), 'utf8')).toBe(mcp);
    expect(readFileSync(join(other, '.mcp.json'), 'utf8')).toBe(mcp.replace('team', 'mine'));
  });
});

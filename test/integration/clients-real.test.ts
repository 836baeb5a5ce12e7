/**
 * The real clients, wired and unwired: Claude Code and Gemini CLI (devDependencies), run offline in a
 * temporary HOME, as a user runs them. What would hurt the user: a wired entry the client cannot start, or
 * starts but that never reaches the server (the client's health check says so, not our code); sessions
 * recorded under some other name than the client's own; a token written into the client's file; a file not
 * put back exactly after unwire, even though the client rewrote it meanwhile (Claude Code rewrites
 * ~/.claude.json on every start). Each client's `mcp list` connects to every server and reports what it saw.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runGatehouse, startServe } from '../helpers/cli.js';
import { everythingStdio } from '../helpers/servers.js';
import { put, tempHome } from '../helpers/temp-home.js';

const bin = (name: string) => join(import.meta.dirname, '../../node_modules/.bin', name);
const root = mkdtempSync(join(tmpdir(), 'gatehouse-realclients-'));
const project = join(root, 'project');
const gh = tempHome({ gateway: { port: 0 } });
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  gh.remove();
});
// Offline and self-contained: no update checks or telemetry, temporary files under the temporary HOME.
const env: Record<string, string> = {
  HOME: root,
  GATEHOUSE_HOME: gh.dir,
  TMPDIR: join(root, 'tmp'),
  DISABLE_AUTOUPDATER: '1',
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  DISABLE_TELEMETRY: '1',
  NO_COLOR: '1',
};
const run = (command: string, args: string[], timeout = 90_000): Promise<{ code: number; out: string }> =>
  new Promise((resolve) => {
    execFile(command, args, { cwd: project, env: { ...process.env, ...env }, timeout, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: `${stdout}${stderr}` });
    });
  });

const everything = everythingStdio();
const claudeFile = join(root, '.claude.json');
const geminiFile = join(root, '.gemini', 'settings.json');

describe('real clients through `gatehouse clients wire`', () => {
  it('Claude Code and Gemini CLI reach their servers through Gatehouse, under their own names, and unwire puts each file back', { timeout: 240_000 }, async () => {
    mkdirSync(join(root, 'tmp'), { recursive: true });
    mkdirSync(project, { recursive: true });
    put(claudeFile, `${JSON.stringify({ numStartups: 3, mcpServers: { everything: { type: 'stdio', command: everything.command, args: everything.args, env: { EVERYTHING_TOKEN: 'Zq8vRealClientSecret' } } } }, null, 2)}\n`);
    put(geminiFile, `{\n  // Gemini CLI reads comments\n  "ui": { "theme": "Default" },\n  "mcpServers": {\n    "memory-like": { "command": ${JSON.stringify(everything.command)}, "args": ${JSON.stringify(everything.args)} }\n  }\n}\n`);
    put(join(root, '.gemini', 'trustedFolders.json'), JSON.stringify({ [project]: 'TRUST_FOLDER' }));

    // Claude Code writes its own keys into ~/.claude.json the first time it runs: the user's file is that one.
    const first = await run(bin('claude'), ['mcp', 'list']);
    expect(first.out).toMatch(/everything: .*Connected/);
    const claudeBefore = readFileSync(claudeFile, 'utf8');
    const geminiBefore = readFileSync(geminiFile, 'utf8');

    for (const client of ['claude-code', 'gemini']) {
      const wired = await runGatehouse(['clients', 'wire', client], env);
      expect(wired.code, wired.stderr).toBe(0);
      expect(wired.stdout).toContain('no token written into the file');
    }

    const serve = await startServe(['--port', '0'], env);
    try {
      const claude = await run(bin('claude'), ['mcp', 'list']);
      expect(claude.out).toMatch(/everything: \S+ \S+gatehouse\.js connect everything - ✔ Connected/);
      const gemini = await run(bin('gemini'), ['mcp', 'list']);
      expect(gemini.out).toMatch(/memory-like: \S+ \S+gatehouse\.js connect memory-like \(stdio\) - Connected/);

      // What reached the gateway: one session per client, under the name each client gave itself.
      const sessions = await runGatehouse(['sessions', '--json'], env);
      const list = JSON.parse(sessions.stdout) as { server: string; client?: { name?: string; version?: string } }[];
      expect(list.find((s) => s.server === 'everything')?.client?.name).toBe('claude-code');
      expect(list.find((s) => s.server === 'memory-like')?.client?.name).toBeTruthy();
      const token = readFileSync(join(gh.dir, 'token'), 'utf8').trim();
      for (const f of [claudeFile, geminiFile]) expect(readFileSync(f, 'utf8')).not.toContain(token);
      // The server's secret moved into gatehouse.yaml, not left behind in the client's file.
      expect(readFileSync(claudeFile, 'utf8')).not.toContain('Zq8vRealClientSecret');
    } finally {
      const exited = new Promise((r) => serve.child.once('exit', r));
      serve.child.kill('SIGTERM');
      await exited;
    }

    for (const client of ['claude-code', 'gemini']) {
      const unwired = await runGatehouse(['clients', 'unwire', client], env);
      expect(unwired.code, unwired.stdout + unwired.stderr).toBe(0);
    }
    expect(readFileSync(claudeFile, 'utf8')).toBe(claudeBefore);
    expect(readFileSync(geminiFile, 'utf8')).toBe(geminiBefore);
  });
});

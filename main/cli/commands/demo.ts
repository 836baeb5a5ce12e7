import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { stringify } from 'yaml';
import type { ApprovalDecision } from '../../api/types.js';
import { readSessionRecords } from '../../audit/reader.js';
import { summarizeRecord } from '../../audit/replay-summary.js';
import { abortIsolatingFetch } from '../../gateway/isolated-fetch.js';
import type { Command } from '../command.js';
import type { CliIo } from '../io.js';
import { dataDirFor, stringOption } from '../options.js';
import { isGatewayRunning } from '../../config/instance-lock.js';
import { UsageError } from '../usage-error.js';
import { serveHeadless, waitForSignal } from './serve.js';

const FAKE_AWS_KEY = 'AKIADEMO7GATEHOUSE42';

export const demoCommand: Command = {
  summary: 'a scripted agent session through the gateway against a real MCP server in a temp folder: the first look',
  usage: 'gatehouse demo [--approve prompt|once|hour|deny] [--keep] [--json]',
  options: { approve: { type: 'string' }, keep: { type: 'boolean' }, json: { type: 'boolean' } },
  async run({ values }, io) {
    const json = values.json === true;
    const mode = stringOption(values.approve) ?? (process.stdin.isTTY && !json ? 'prompt' : 'once');
    if (!['prompt', 'once', 'hour', 'deny'].includes(mode)) throw new UsageError(`--approve is prompt, once, hour or deny, not "${mode}"`);
    if (json && mode === 'prompt') throw new UsageError('--json writes one JSON document and asks nothing: choose --approve once, hour or deny');
    if (json && values.keep) throw new UsageError('--json reports once the demo is over; --keep keeps it running: use one of them');
    await runDemo(io, mode as 'prompt' | 'once' | 'hour' | 'deny', values.keep === true, json);
  },
};

/** The filesystem server: the installed package when there is one (this repository), else through npx. */
function filesystemServer(root: string): { command: string; args: string[] } {
  try {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve('@modelcontextprotocol/server-filesystem/package.json');
    return { command: process.execPath, args: [join(dirname(pkg), 'dist', 'index.js'), root] };
  } catch {
    return { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', root] };
  }
}

/** What `gatehouse demo --json` reports: where it ran, what it said at each step, what was recorded, and whether the log verifies. */
export interface DemoReport {
  dataDir: string;
  project: string;
  session: string;
  steps: string[];
  records: { seq: number; kind: string; summary: string }[];
  verified: { ok: boolean; records: number; problem?: string };
  lookAgain: string;
}

async function runDemo(io: CliIo, mode: 'prompt' | 'once' | 'hour' | 'deny', keep: boolean, json: boolean): Promise<void> {
  // In the data directory, one at a time (the previous demo's folder is replaced): never a folder left in /tmp.
  const base = join(dataDirFor(io), 'demo');
  if (await isGatewayRunning(join(base, 'home'))) throw new UsageError(`a demo is still running on ${join(base, 'home')}; stop it (Ctrl-C) first`);
  rmSync(base, { recursive: true, force: true });
  mkdirSync(base, { recursive: true, mode: 0o700 });
  const project = join(base, 'project');
  const home = join(base, 'home');
  mkdirSync(project);
  mkdirSync(home, { mode: 0o700 });
  writeFileSync(join(project, 'README.md'), '# Demo project\nA small project an agent works on.\n');
  writeFileSync(join(project, '.env'), `AWS_ACCESS_KEY_ID=${FAKE_AWS_KEY}\nOWNER=ada@example.com\n`);
  writeFileSync(
    join(home, 'gatehouse.yaml'),
    stringify({
      gateway: { port: 0 },
      servers: { files: filesystemServer(project) },
      policy: {
        default: 'allow',
        rules: [
          { name: 'no-env-writes', match: { tool: ['write_file', 'edit_file'], args: { path: '\\.env$' } }, action: 'deny', reason: 'agents may not change .env files' },
          { name: 'writes-need-approval', match: { tool: ['write_file', 'edit_file', 'move_file'] }, action: 'approve', reason: 'writing files needs a person' },
        ],
      },
      approvals: { timeout: '5m' },
      masking: { detectors: ['secrets', 'email', 'credit-card', 'ip'] },
    }),
    { mode: 0o600 },
  );

  const steps: string[] = [];
  const say = (text: string) => (json ? steps.push(text) : io.out(text));
  say(`Gatehouse demo — a scratch project in ${project}, Gatehouse data in ${home}\n`);
  const running = await serveHeadless({ ...io, out: (t) => say(t.split('\n').filter((l) => /Timeline UI/.test(l)).join('\n') || '') }, { dataDir: home, port: 0, open: false, quiet: true });
  const client = new Client({ name: 'gatehouse-demo-agent', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${running.url}/mcp/files`), { requestInit: { headers: { authorization: `Bearer ${running.token}` } }, fetch: abortIsolatingFetch() }));
  const sessionId = (client.transport as { sessionId?: string }).sessionId as string;
  const text = (result: unknown) => JSON.stringify((result as { content?: { text?: string }[] }).content?.[0]?.text ?? result).slice(0, 100);
  try {
    say(`1. The agent lists the tools of the filesystem server: ${(await client.listTools()).tools.length} tools.`);
    say(`2. It reads README.md (allowed):  ${text(await client.callTool({ name: 'read_text_file', arguments: { path: join(project, 'README.md') } }))}`);
    const env = await client.callTool({ name: 'read_text_file', arguments: { path: join(project, '.env') } });
    say(`3. It reads .env, which holds an AWS key and an email address. The agent gets the file ${text(env).includes(FAKE_AWS_KEY) ? 'as it is (masking.inline is off)' : 'masked'};`);
    say('   the audit log keeps only masked values (see below).');
    try {
      await client.callTool({ name: 'write_file', arguments: { path: join(project, '.env'), content: 'AWS_ACCESS_KEY_ID=stolen' } });
      say('4. It tries to overwrite .env: (unexpectedly allowed)');
    } catch (err) {
      say(`4. It tries to overwrite .env, and policy refuses:  ${(err as Error).message.replace(/^MCP error -?\d+: /, '')}`);
    }
    say('5. It writes notes.md, which needs a person\'s approval. The call waits…');
    const write = client.callTool({ name: 'write_file', arguments: { path: join(project, 'notes.md'), content: 'Notes from the agent.\n' } }, undefined, { timeout: 6 * 60_000 });
    const pending = await waitForPending(running.api.approvals);
    const decision = await askFor(mode, pending, io);
    const decided = await running.api.decideApproval(pending.id, decision, mode === 'prompt' ? 'cli' : 'demo');
    say(`   ${decided.ok ? decided.message : 'someone else decided first (the web UI)'}`);
    try {
      say(`   The call goes on:  ${text(await write)}`);
    } catch (err) {
      say(`   The call is refused:  ${(err as Error).message.replace(/^MCP error -?\d+: /, '')}`);
    }
  } finally {
    await client.close();
  }

  await running.audit.log.flush();
  const records = readSessionRecords(running.audit.dir, running.audit.index, sessionId)
    .filter((r) => r.kind !== 'event')
    .map((r) => ({ seq: r.seq, kind: r.kind, summary: summarizeRecord(r) }));
  const verified = await running.api.verify();
  const lookAgain = `GATEHOUSE_HOME=${home} ${selfCommand()} sessions`;
  if (json) {
    await running.stop();
    const report: DemoReport = {
      dataDir: home,
      project,
      session: sessionId,
      steps: steps.map((t) => t.trim()).filter(Boolean),
      records,
      verified: { ok: verified.ok, records: verified.records, ...(verified.problem ? { problem: verified.problem.message } : {}) },
      lookAgain,
    };
    return void io.out(JSON.stringify(report, null, 2));
  }
  say('\nWhat Gatehouse recorded (`gatehouse replay`), masked as stored:');
  for (const r of records) say(`  #${String(r.seq).padEnd(4)} ${r.summary}`);
  say(`\n${verified.ok ? `Audit log intact: ${verified.records} records, hash-chained and checkpointed.` : `Audit log BROKEN: ${verified.problem?.message}`}`);
  say(`Look again with:  ${lookAgain}   (or replay, verify, export)`);
  if (keep) {
    say(`The gateway keeps running for the timeline (${running.url}); Ctrl-C to stop.`);
    await waitForSignal(running, io);
  } else {
    await running.stop();
  }
}

/** This command as the user can type it: `gatehouse` where that is what runs, else node and this script's path. */
function selfCommand(): string {
  const me = realpathSync(process.argv[1] as string);
  const onPath = (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      return dir !== '' && realpathSync(join(dir, 'gatehouse')) === me;
    } catch {
      return false;
    }
  });
  return onPath ? 'gatehouse' : `node ${me}`;
}

async function waitForPending<T extends { id: string }>(list: () => Promise<T[]>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const [first] = await list();
    if (first) return first;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the write did not reach the approval broker within 10s');
}

async function askFor(mode: 'prompt' | 'once' | 'hour' | 'deny', pending: { id: string; tool: string }, io: CliIo): Promise<ApprovalDecision> {
  if (mode === 'once') return { action: 'allow' };
  if (mode === 'hour') return { action: 'allow', forMs: 3_600_000 };
  if (mode === 'deny') return { action: 'deny', reason: 'the demo says no' };
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    for (;;) {
      const answer = (await rl.question(`   Approve ${pending.tool} (approval ${pending.id.slice(0, 8)})? [o]nce, for an [h]our, [d]eny: `)).trim().toLowerCase();
      if (answer.startsWith('o') || answer === 'y') return { action: 'allow' };
      if (answer.startsWith('h')) return { action: 'allow', forMs: 3_600_000 };
      if (answer.startsWith('d') || answer === 'n') return { action: 'deny', reason: 'denied at the demo prompt' };
      io.out('   Please answer o, h or d.');
    }
  } finally {
    rl.close();
  }
}

// Every way of reaching one MCP server, measured side by side in one run: the server over stdio, its own HTTP,
// two bare bridges (supergateway, mcp-proxy) and Gatehouse (HTTP, and the `connect` shim), each with the SDK's
// client and a lean one. Ratios from the same run are what the README quotes; absolute times vary on shared
// machines. Writes test/bench/results/side-by-side.{md,json}.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { abortIsolatingFetch } from '../../main/gateway/isolated-fetch.js';
import { startServe } from '../helpers/cli.js';
import { freePort } from '../helpers/http-servers.js';
import { everythingStdio, serverScript } from '../helpers/servers.js';
import { tempHome } from '../helpers/temp-home.js';
import { openHttpSession, openStdioSession, type BenchSession } from './lean-client.js';
import { cpuMs, peakMb, processTree, resetPeak, rssMb, totalRssMb } from './processes.js';
import { percentile } from './stats.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 3000);
const WARMUP = Math.min(300, CALLS);
const OPEN_SESSIONS = Number(process.env.BENCH_SESSIONS ?? 100);
const BIG = (process.env.BENCH_BIG ?? '10,50').split(',').map(Number).filter((n) => n > 0);
const KB = 'x'.repeat(1024);
const BIN = join(import.meta.dirname, '../../bin/gatehouse.js');
const RESULTS = join(import.meta.dirname, 'results');
const require = createRequire(import.meta.url);
const binOf = (pkg: string, file: string) => join(dirname(require.resolve(`${pkg}/package.json`)), file);

/** A running proxy (or none, for direct stdio): how to open sessions through it, and which processes are its own. */
interface Instance {
  open(): Promise<BenchSession>;
  sdk(): Transport;
  /** The proxy's own processes (not the servers it starts). */
  pids(): number[];
  /** For the stdio shim: the shim of the session measured last (its own figures apart from the gateway's). */
  shimPid?(): number | undefined;
  /** Where the process trees of everything it started begin. */
  roots(): number[];
  stop(): Promise<void>;
}

type ServerName = 'everything' | 'spy';
const SERVERS: Record<ServerName, { command: string; args: string[] }> = {
  everything: everythingStdio(),
  // Raw stdio with no size limit (the SDK's stdio transport refuses a line over 10 MiB): for the big messages.
  spy: { command: process.execPath, args: [join(import.meta.dirname, '../fixtures/spy-server.mjs')] },
};

interface Target {
  name: string;
  stdio: boolean;
  /** Whether it can bridge any stdio server (the server's own HTTP is server-everything only). */
  bridges: boolean;
  launch(server: ServerName): Promise<Instance>;
}

function waitForPort(port: number, child: ChildProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`exited with ${child.exitCode} before listening on ${port}`));
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listened on ${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 20);
      });
    };
    attempt();
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** An HTTP proxy (or server) started as `node args…` on a free port, reached at `path`. */
function httpTarget(name: string, args: (port: number, server: { command: string; args: string[] }) => string[], bridges = true): Target {
  return {
    name,
    stdio: false,
    bridges,
    async launch(server) {
      const port = await freePort();
      const child = spawn(process.execPath, args(port, SERVERS[server]), { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'ignore'] });
      await waitForPort(port, child);
      const endpoint = `http://127.0.0.1:${port}/mcp`;
      return {
        open: () => openHttpSession(endpoint),
        sdk: () => new StreamableHTTPClientTransport(new URL(endpoint), { fetch: abortIsolatingFetch() }),
        pids: () => [child.pid as number],
        roots: () => [child.pid as number],
        stop: () => stopChild(child),
      };
    },
  };
}


/** Gatehouse's headless gateway in a fresh data directory: recording, masking and policy on, as installed. */
async function launchGatehouse(server: ServerName): Promise<{ home: string; url: string; token: string; child: ChildProcess; remove(): Promise<void> }> {
  const home = tempHome({ gateway: { port: 0, maxBodySize: '160MiB' }, servers: SERVERS, masking: { detectors: ['secrets', 'email', 'credit-card', 'ip'] } });
  const serve = await startServe(['--port', '0', '--quiet'], { GATEHOUSE_HOME: home.dir });
  const token = readFileSync(join(home.dir, 'token'), 'utf8').trim();
  return {
    home: home.dir,
    url: `${serve.url}/mcp/${server}`,
    token,
    child: serve.child,
    async remove() {
      await stopChild(serve.child);
      home.remove();
    },
  };
}

const TARGETS: Target[] = [
  {
    name: 'direct stdio',
    stdio: true,
    bridges: true,
    async launch(server) {
      const opened: number[] = [];
      const { command, args } = SERVERS[server];
      return {
        async open() {
          const s = await openStdioSession(command, args);
          opened.push(s.pid as number);
          return s;
        },
        sdk: () => new StdioClientTransport({ command, args, stderr: 'ignore' }),
        pids: () => [],
        roots: () => opened,
        stop: async () => undefined,
      };
    },
  },
  httpTarget("server's own HTTP", () => [serverScript('@modelcontextprotocol/server-everything'), 'streamableHttp'], false),
  httpTarget('supergateway', (port, server) => [binOf('supergateway', 'dist/index.js'), '--stdio', [server.command, ...server.args].join(' '), '--outputTransport', 'streamableHttp', '--stateful', '--port', String(port), '--logLevel', 'none']),
  httpTarget('mcp-proxy', (port, server) => [binOf('mcp-proxy', 'dist/bin/mcp-proxy.mjs'), '--port', String(port), '--host', '127.0.0.1', '--server', 'stream', '--maxBodySize', '0', '--', server.command, ...server.args]),
  {
    name: 'Gatehouse HTTP',
    stdio: false,
    bridges: true,
    async launch(server) {
      const g = await launchGatehouse(server);
      const headers = { authorization: `Bearer ${g.token}` };
      return {
        open: () => openHttpSession(g.url, headers),
        sdk: () => new StreamableHTTPClientTransport(new URL(g.url), { requestInit: { headers }, fetch: abortIsolatingFetch() }),
        pids: () => [g.child.pid as number],
        roots: () => [g.child.pid as number],
        stop: () => g.remove(),
      };
    },
  },
  {
    name: 'Gatehouse connect',
    stdio: true,
    bridges: true,
    async launch(server) {
      const g = await launchGatehouse(server);
      const env = { GATEHOUSE_HOME: g.home };
      const shims: number[] = [];
      return {
        async open() {
          const s = await openStdioSession(process.execPath, [BIN, 'connect', server], env);
          shims.push(s.pid as number);
          return s;
        },
        sdk: () => new StdioClientTransport({ command: process.execPath, args: [BIN, 'connect', server], env: { ...(process.env as Record<string, string>), ...env }, stderr: 'ignore' }),
        // The gateway and the newest shim: the session being measured is always the one opened last.
        pids: () => [g.child.pid as number, ...shims.slice(-1)],
        shimPid: () => shims.at(-1),
        roots: () => [g.child.pid as number, ...shims],
        stop: () => g.remove(),
      };
    },
  },
];

interface Figures {
  sdk?: { p50: number; p99: number };
  lean?: { p50: number; p99: number; proxyCpuMsPerCall?: number };
  throughput?: { c1: number; c16: number; c64: number; sessions16: number };
  big?: Record<string, { ms: number; peakGrowthMb: number }>;
  openSessions?: { sessions: number; totalRssMb: number; processes: number; proxyRssMb: number };
  coldStartMs?: number;
  deleteMs?: { p50: number; p99: number };
  idleRssMb?: number;
  /** The stdio shim alone: its CPU per call and its RSS after the calls. */
  shim?: { cpuMsPerCall: number; rssMb: number };
  errors?: string[];
}

async function timed(n: number, call: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < WARMUP; i++) await call();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await call();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

/** Calls per second with `workers` calls in flight at a time, spread over the sessions given. */
async function rate(sessions: BenchSession[], workers: number, total: number): Promise<number> {
  let left = total;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      const s = sessions[w % sessions.length] as BenchSession;
      while (left-- > 0) await s.echo(KB);
    }),
  );
  return total / ((performance.now() - t) / 1000);
}

async function measureTarget(target: Target, log: (s: string) => void): Promise<Figures> {
  const f: Figures = { errors: [] };
  const attempt = async (what: string, run: () => Promise<void>) => {
    try {
      log(`  ${what}`);
      await run();
    } catch (err) {
      f.errors?.push(`${what}: ${(err as Error).message.slice(0, 200)}`);
      log(`  ${what} failed: ${(err as Error).message.slice(0, 200)}`);
    }
  };
  // Cold start: an HTTP proxy from its launch to its first answer; a stdio one (the server, the shim in front of a
  // running gateway) from its spawn to its first answer.
  const launched = performance.now();
  const instance = await target.launch('everything');
  try {
    await attempt('cold start', async () => {
      const t = target.stdio ? performance.now() : launched;
      const s = await instance.open();
      await s.echo('x');
      f.coldStartMs = performance.now() - t;
      await s.close();
    });
    await attempt('SDK client', async () => {
      const client = new Client({ name: 'gatehouse-bench', version: '1' });
      await client.connect(instance.sdk());
      f.sdk = await timed(CALLS, () => client.callTool({ name: 'echo', arguments: { message: KB } }));
      await client.close();
    });
    await attempt('lean client', async () => {
      const s = await instance.open();
      const pids = instance.pids();
      const cpu = () => pids.reduce((n, p) => n + cpuMs(p), 0);
      const before = cpu();
      const shimPid = instance.shimPid?.();
      const shimBefore = shimPid === undefined ? 0 : cpuMs(shimPid);
      f.lean = await timed(CALLS, () => s.echo(KB));
      if (pids.length > 0) f.lean.proxyCpuMsPerCall = (cpu() - before) / (CALLS + WARMUP);
      if (shimPid !== undefined) f.shim = { cpuMsPerCall: (cpuMs(shimPid) - shimBefore) / (CALLS + WARMUP), rssMb: rssMb(shimPid) };
      f.idleRssMb = totalRssMb(instance.pids());
      const c1 = await rate([s], 1, CALLS);
      const c16 = await rate([s], 16, CALLS);
      const c64 = await rate([s], 64, CALLS);
      await s.close();
      const many = await Promise.all(Array.from({ length: 16 }, () => instance.open()));
      const sessions16 = await rate(many, 16, CALLS);
      await Promise.all(many.map((m) => m.close()));
      f.throughput = { c1, c16, c64, sessions16 };
    });
    if (OPEN_SESSIONS > 0) {
      await attempt(`${OPEN_SESSIONS} open sessions`, async () => {
        const open: BenchSession[] = [];
        for (let i = 0; i < OPEN_SESSIONS; i++) {
          const s = await instance.open();
          await s.echo('x');
          open.push(s);
        }
        await new Promise((r) => setTimeout(r, 500));
        const tree = instance.roots().flatMap((r) => processTree(r));
        f.openSessions = { sessions: OPEN_SESSIONS, totalRssMb: totalRssMb(tree), processes: tree.length, proxyRssMb: totalRssMb(instance.pids().slice(0, 1)) };
        for (const s of open) await s.close();
      });
    }
    if (!target.stdio) {
      await attempt('DELETE', async () => {
        const times: number[] = [];
        for (let i = 0; i < 20; i++) {
          const s = await instance.open();
          await s.echo('x');
          const t = performance.now();
          await s.close();
          times.push(performance.now() - t);
        }
        times.sort((a, b) => a - b);
        f.deleteMs = { p50: percentile(times, 50), p99: percentile(times, 99) };
      });
    }
  } finally {
    await instance.stop();
  }
  if (target.bridges && BIG.length > 0) await measureBig(target, f, attempt);
  return f;
}

/** Big messages through the raw spy server: a result of N MB (a file read), and an argument of N MB (a file written). */
async function measureBig(target: Target, f: Figures, attempt: (what: string, run: () => Promise<void>) => Promise<void>): Promise<void> {
  const instance = await target.launch('spy');
  f.big = {};
  try {
    for (const size of BIG) {
      const bytes = size * 1_000_000;
      for (const [what, call] of [
        ['result', (s: BenchSession) => s.call(`bytes_${bytes}`, {})],
        ['argument', (s: BenchSession) => s.call('write_file', { content: 'x'.repeat(bytes) })],
      ] as const) {
        await attempt(`${size}MB ${what}`, async () => {
          const s = await instance.open();
          let best = Infinity;
          let growth = 0;
          for (let i = 0; i < 2; i++) {
            const pids = instance.pids();
            for (const p of pids) resetPeak(p);
            const base = pids.reduce((n, p) => n + rssMb(p), 0);
            const t = performance.now();
            const answer = await call(s);
            best = Math.min(best, performance.now() - t);
            if (what === 'result' && answer.length < bytes) throw new Error(`answer cut to ${answer.length} bytes`);
            growth = Math.max(growth, pids.reduce((n, p) => n + peakMb(p), 0) - base);
          }
          (f.big ??= {})[`${size}MB ${what}`] = { ms: best, peakGrowthMb: growth };
          await s.close();
        });
      }
    }
  } finally {
    await instance.stop();
  }
}

/** The physical floor of a write-ahead proxy: appending a record and fdatasync on the disk the data directory is on. */
function fdatasyncFloor(): { p50: number; p99: number } {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-sync-'));
  try {
    const fd = openSync(join(dir, 'log'), 'a');
    const line = `${'y'.repeat(1500)}\n`;
    const samples: number[] = [];
    for (let i = 0; i < 1200; i++) {
      const t = performance.now();
      writeSync(fd, line);
      fdatasyncSync(fd);
      if (i >= 200) samples.push(performance.now() - t);
    }
    closeSync(fd);
    samples.sort((a, b) => a - b);
    return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ms = (n: number | undefined, digits = 2) => (n === undefined || !Number.isFinite(n) ? '—' : `${n.toFixed(digits)} ms`);
const num = (n: number | undefined) => (n === undefined ? '—' : Math.round(n).toLocaleString('en-US'));
const mb = (n: number | undefined) => (n === undefined ? '—' : `${Math.round(n)} MB`);

function markdown(results: Record<string, Figures>, floor: { p50: number; p99: number }): string {
  const names = Object.keys(results);
  const row = (figure: string, cell: (f: Figures) => string) => `| ${figure} | ${names.map((n) => cell(results[n] as Figures)).join(' | ')} |`;
  const big = (f: Figures, key: string) => {
    const b = f.big?.[key];
    if (!b) return f.errors?.some((e) => e.startsWith(key)) ? 'fails' : '—';
    return `${ms(b.ms, 0)} / ${mb(b.peakGrowthMb)}`;
  };
  const lines = [
    `| figure | ${names.join(' | ')} |`,
    `|---|${names.map(() => '---').join('|')}|`,
    row('p50 / p99, 1 KB call, SDK client', (f) => (f.sdk ? `${ms(f.sdk.p50, 3)} / ${ms(f.sdk.p99, 2)}` : '—')),
    row('p50 / p99, 1 KB call, lean client', (f) => (f.lean ? `${ms(f.lean.p50, 3)} / ${ms(f.lean.p99, 2)}` : '—')),
    row("the proxy's CPU per call", (f) => ms(f.lean?.proxyCpuMsPerCall, 3)),
    row('calls/s, 1 session, concurrency 1 / 16 / 64', (f) => (f.throughput ? `${num(f.throughput.c1)} / ${num(f.throughput.c16)} / ${num(f.throughput.c64)}` : '—')),
    row('calls/s, 16 sessions, concurrency 16', (f) => num(f.throughput?.sessions16)),
    ...BIG.flatMap((n) => (['result', 'argument'] as const).map((what) => row(`${n} MB ${what}: latency / the proxy's peak RSS growth`, (f) => big(f, `${n}MB ${what}`)))),
    row(`${OPEN_SESSIONS} open sessions: total RSS (processes) / the proxy's own`, (f) => (f.openSessions ? `${mb(f.openSessions.totalRssMb)} (${f.openSessions.processes}) / ${f.openSessions.proxyRssMb ? mb(f.openSessions.proxyRssMb) : '—'}` : '—')),
    row('the proxy idle after the calls, RSS', (f) => mb(f.idleRssMb || undefined)),
    row('the stdio shim alone: CPU per call / RSS after the calls', (f) => (f.shim ? `${ms(f.shim.cpuMsPerCall, 3)} / ${mb(f.shim.rssMb)}` : '—')),
    row('cold start to the first answer', (f) => ms(f.coldStartMs, 0)),
    row('DELETE answered, p50 / p99', (f) => (f.deleteMs ? `${ms(f.deleteMs.p50)} / ${ms(f.deleteMs.p99)}` : '—')),
  ];
  const direct = results['direct stdio']?.lean?.p50;
  const gate = results['Gatehouse HTTP']?.lean?.p50;
  const bridges = ['supergateway', 'mcp-proxy'].map((n) => results[n]?.lean?.p50).filter((v): v is number => v !== undefined);
  const fastest = Math.min(...bridges);
  if (direct !== undefined && gate !== undefined) {
    const limit = direct + 2 * floor.p50;
    lines.push(
      '',
      `The recording floor: append + fdatasync of a 1.5 KB record on this disk, p50 ${ms(floor.p50, 3)} (p99 ${ms(floor.p99, 2)}); direct stdio + two of them = ${ms(limit, 3)}, the least a write-ahead proxy can take per call. Gatehouse HTTP (lean client) ${ms(gate, 3)}: ${(gate / limit).toFixed(2)}× that floor, ${(gate / fastest).toFixed(2)}× the fastest bare bridge (${ms(fastest, 3)}).`,
    );
  }
  const errors = names.flatMap((n) => (results[n]?.errors ?? []).map((e) => `- ${n}: ${e}`));
  if (errors.length) lines.push('', 'Failed:', ...errors);
  return lines.join('\n');
}

export async function benchSideBySide(log: (s: string) => void = (s) => console.error(s)): Promise<string> {
  const results: Record<string, Figures> = {};
  const only = process.env.BENCH_TARGETS?.split(',');
  for (const target of TARGETS) {
    if (only && !only.some((o) => target.name.toLowerCase().includes(o.toLowerCase()))) continue;
    log(`measuring ${target.name}…`);
    results[target.name] = await measureTarget(target, log);
  }
  const floor = fdatasyncFloor();
  const commit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  const header = `1 KB \`echo\` of @modelcontextprotocol/server-everything (stdio) reached every way, one run, ${CALLS} calls per figure after ${WARMUP} warm-up; ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, commit ${commit}, ${new Date().toISOString()}`;
  const text = `${header}\n\n${markdown(results, floor)}`;
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'side-by-side.md'), `${text}\n`);
  writeFileSync(join(RESULTS, 'side-by-side.json'), `${JSON.stringify({ date: new Date().toISOString(), commit, machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`, node: process.version, calls: CALLS, floor, results }, null, 2)}\n`);
  return text;
}

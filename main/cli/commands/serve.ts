import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startGatehouse, type RunningGatehouse } from '../../api/core.js';
import type { GatewayEvents } from '../../gateway/events.js';
import { BrowserAuth } from '../../web/browser-auth.js';
import { createWebHandler } from '../../web/web-handler.js';
import type { Command } from '../command.js';
import { canOpenBrowser, openBrowser } from '../browser.js';
import type { CliIo } from '../io.js';
import { shimCommand } from './clients.js';
import { dataDirFor, parsePort, stringOption } from '../options.js';

export const serveCommand: Command = {
  summary: 'run the headless gateway: proxy, recorder and the web UI on http://127.0.0.1:PORT/',
  usage: 'gatehouse serve [--port N] [--no-open] [--quiet] [--config FILE]',
  options: { port: { type: 'string' }, 'no-open': { type: 'boolean' }, quiet: { type: 'boolean', short: 'q' } },
  async run({ values }, io) {
    const port = parsePort(values.port);
    const running = await serveHeadless(io, {
      dataDir: dataDirFor(io),
      ...(port !== undefined ? { port } : {}),
      ...(stringOption(values.config) ? { configFile: stringOption(values.config) as string } : {}),
      open: !values['no-open'],
      quiet: values.quiet === true,
    });
    await waitForSignal(running, io);
  },
};

export interface HeadlessOptions {
  dataDir: string;
  configFile?: string;
  port?: number;
  open: boolean;
  quiet?: boolean;
}

/** Starts the core with the web UI, prints how to reach it, and opens the browser unless told not to. */
export async function serveHeadless(io: CliIo, options: HeadlessOptions): Promise<RunningGatehouse> {
  const auth = { current: undefined as BrowserAuth | undefined };
  const running = await startGatehouse({
    dataDir: options.dataDir,
    ...(options.configFile ? { configFile: options.configFile } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    shell: 'headless',
    clients: { platform: { os: process.platform, home: io.env.HOME ?? homedir(), appData: io.env.APPDATA, cwd: process.cwd() }, shim: shimCommand() },
    web: ({ api, token, changes }) => {
      auth.current = new BrowserAuth(token);
      return createWebHandler({ api, token, changes, auth: auth.current, uiDir: findUiDir() });
    },
  });
  if (!options.quiet) logEvents(running.gateway.events, io, (v) => running.live.current.masker.text(v));
  const link = `${running.url}/login?code=${(auth.current as BrowserAuth).issueCode()}`;
  const servers = Object.keys(running.config.servers);
  io.out(
    [
      `Gatehouse gateway on ${running.url}`,
      `  config:  ${running.configFile} (${servers.length ? servers.join(', ') : 'no servers yet: add some under servers:'})`,
      `  clients: ${running.url}/mcp/<server> with "Authorization: Bearer <token>" (token: ${running.dataDir}/token),`,
      `           or \`gatehouse connect <server>\` for stdio-only clients`,
      `Timeline UI (one-time sign-in link): ${link}`,
    ].join('\n'),
  );
  // A first run: say which of the user's clients have servers, and how to route them through Gatehouse.
  if (servers.length === 0) {
    const { hint } = await running.api.clients();
    if (hint) io.out(hint);
  }
  if (options.open && canOpenBrowser(io.env)) openBrowser(link);
  return running;
}

/** Runs until SIGINT/SIGTERM, then closes sessions and stops every upstream before exiting. */
export function waitForSignal(running: RunningGatehouse, io: CliIo): Promise<void> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      io.err(`gatehouse: ${signal}: closing ${running.gateway.sessionCount} session(s) and stopping upstream servers`);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      running.stop().then(resolve, resolve);
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
}

/** What the gateway reports, one line each, to the console: masked like the log (a client's name, a server's stderr may hold a secret). */
export function logEvents(events: GatewayEvents, io: CliIo, mask: (value: string) => string = (v) => v): void {
  const short = (id: string) => id.slice(0, 8);
  events.on('session-initialized', (e) =>
    io.err(`[${e.server} ${short(e.sessionId)}] session from ${mask(e.client.name ?? 'unknown client')} ${mask(e.client.version ?? '')} (MCP ${mask(e.protocolVersion ?? '?')})`),
  );
  events.on('upstream-start', (e) => io.err(`[${e.server} ${short(e.sessionId)}] upstream started (${e.kind}${e.pid ? `, pid ${e.pid}` : ''})`));
  events.on('session-end', (e) => io.err(`[${e.server} ${short(e.sessionId)}] session ended: ${e.reason}`));
  events.on('upstream-stderr', (e) => io.err(`[${e.server} ${short(e.sessionId)} stderr] ${mask(e.line)}`));
  events.on('warning', (e) => io.err(`[${e.server ?? 'gateway'}${e.sessionId ? ` ${short(e.sessionId)}` : ''}] warning: ${mask(e.message)}`));
  events.on('stream-cut', (e) => io.err(`[${e.server} ${short(e.sessionId)}] ${e.message}`));
}

/** out/renderer beside the built main bundle; undefined when the UI has not been built. */
function findUiDir(): string | undefined {
  for (const candidate of ['../renderer/', '../../out/renderer/', '../../../out/renderer/']) {
    const dir = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  return undefined;
}


import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { randomBytes } from 'node:crypto';
import { readAuditKey } from '../../audit/checkpoint.js';
import { createMasker, maskingKeyFrom } from '../../masking/masker.js';
import { describeServers } from '../../api/core-api.js';
import { resolveDataDir } from '../../config/data-dir.js';
import { configPath, loadConfigFile } from '../../config/load.js';
import { readRuntimeInfo } from '../../config/runtime-file.js';
import type { ServerConfig } from '../../config/schema.js';
import { callVerb } from '../gateway-client.js';
import { createUpstream } from '../../gateway/upstream/create-upstream.js';
import { VERSION } from '../../api/version.js';
import type { Command } from '../command.js';
import { stringOption } from '../options.js';
import { CheckFailed } from '../usage-error.js';

const PROBE_TIMEOUT_MS = 20_000;

export interface ServerReport {
  id: string;
  transport: string;
  target: string;
  endpoint: string;
  reachable: boolean;
  detail: string;
}

export const serversCommand: Command = {
  summary: 'list the configured upstream servers, their transport, and whether the gateway reaches them',
  usage: 'gatehouse servers [--json] [--config FILE]',
  options: { json: { type: 'boolean' } },
  async run({ values }, io) {
    const dataDir = resolveDataDir(io.env);
    const config = loadConfigFile(configPath(dataDir, stringOption(values.config)), { create: stringOption(values.config) === undefined });
    // With no gateway running and gateway.port 0, there is no port to name yet: the gateway picks one at start.
    const running = readRuntimeInfo(dataDir)?.url;
    const base = running ?? (config.gateway.port === 0 ? 'http://127.0.0.1:<port>' : `http://127.0.0.1:${config.gateway.port}`);
    // Shown masked like everything else (a database URL's password, a server's name): with the log's key the
    // tokens match the log's; without it (the desktop keeps it in the keychain) they still hide the value.
    const auditKey = readAuditKey(dataDir);
    const masker = createMasker(config.masking, auditKey ? maskingKeyFrom(auditKey) : randomBytes(32));
    const reports: ServerReport[] = await Promise.all(
      describeServers(config, base).map(async (s) => ({
        id: s.name,
        transport: s.transport,
        target: masker.text(s.target),
        endpoint: s.endpoint,
        ...(await probeServer(s.name, config.servers[s.name] as ServerConfig).then((p) => ({ ...p, detail: masker.text(p.detail) }))),
      })),
    );
    if (values.json) io.out(JSON.stringify(reports, null, 2));
    else if (reports.length === 0) io.out('No servers are configured. Add some under `servers:` in gatehouse.yaml.');
    else {
      for (const r of reports) io.out(`${r.reachable ? 'ok  ' : 'FAIL'}  ${r.id}  (${r.transport}: ${r.target})\n      ${r.detail}\n      via ${r.endpoint}`);
      if (running) {
        const f = (await callVerb(dataDir, 'status').catch(() => undefined))?.body.forwarding;
        if (f?.enabled) io.out(`\nforwarding to ${f.endpoint}: ${f.warning ?? (f.lagRecords ? `${f.lagRecords} record(s) to send` : 'up to date')} (\`gatehouse forwarding\` says more)`);
      }
      if (!running && config.gateway.port === 0) io.out('(no gateway is running; with gateway.port 0 it picks a free <port> when it starts, and `gatehouse servers` then shows it)');
    }
    const failed = reports.filter((r) => !r.reachable).map((r) => r.id);
    if (failed.length) throw new CheckFailed(`not reachable: ${failed.join(', ')}`);
  },
};

/** Starts the server the way the gateway would, completes the MCP handshake, and reports what answered. */
export async function probeServer(name: string, config: ServerConfig): Promise<{ reachable: boolean; detail: string }> {
  const client = new Client({ name: 'gatehouse-probe', version: VERSION });
  const upstream = createUpstream(name, config);
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer to initialize within ${PROBE_TIMEOUT_MS / 1000}s`)), PROBE_TIMEOUT_MS);
    });
    await Promise.race([client.connect(upstream), timeout]);
    const info = client.getServerVersion();
    const caps = Object.keys(client.getServerCapabilities() ?? {}).join(', ');
    return { reachable: true, detail: `${info?.name ?? '?'} ${info?.version ?? ''} (${upstream.kind}; offers ${caps || 'nothing'})` };
  } catch (err) {
    // A server that exited says why on its stderr ("missing API_KEY"), not in the SDK's "Connection closed":
    // its last lines, as the gateway reports them, once they have been read.
    await new Promise((r) => setTimeout(r, 50));
    return { reachable: false, detail: upstream.closeReason() || (err as Error).message };
  } finally {
    clearTimeout(timer);
    await client.close().catch(() => undefined);
  }
}

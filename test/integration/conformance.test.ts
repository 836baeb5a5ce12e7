import type { ChildProcess } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passes, runConformance, type ScenarioResult } from '../helpers/conformance.js';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { freePort, startHttpServer } from '../helpers/http-servers.js';
import { serverScript } from '../helpers/servers.js';
import { startTokenForwarder } from '../helpers/token-forwarder.js';

const FIXTURE = join(import.meta.dirname, '../fixtures/conformance-server.mjs');
const EVERYTHING = serverScript('@modelcontextprotocol/server-everything');

describe('the official MCP conformance suite, directly and through Gatehouse', () => {
  let harness: Harness;
  let forwarder: { url: string; close(): Promise<void> };
  const children: ChildProcess[] = [];
  const results: Record<string, Record<string, ScenarioResult>> = {};

  beforeAll(async () => {
    harness = await startHarness({
      servers: {
        fixture: { command: process.execPath, args: [FIXTURE] },
        everything: { command: process.execPath, args: [EVERYTHING, 'stdio'] },
      },
    });
    forwarder = await startTokenForwarder({ port: harness.gatehouse.port, token: harness.gatehouse.token });
    const fixturePort = await freePort();
    const everythingPort = await freePort();
    children.push(await startHttpServer([FIXTURE, '--http', String(fixturePort)], fixturePort));
    children.push(await startHttpServer([EVERYTHING, 'streamableHttp'], everythingPort, { PORT: String(everythingPort) }));
    // Two suites at a time: the machine has two cores.
    [results.fixtureDirect, results.fixtureGatehouse] = await Promise.all([
      runConformance(`http://127.0.0.1:${fixturePort}/mcp`),
      runConformance(`${forwarder.url}/mcp/fixture`),
    ]);
    [results.everythingDirect, results.everythingGatehouse] = await Promise.all([
      runConformance(`http://127.0.0.1:${everythingPort}/mcp`),
      runConformance(`${forwarder.url}/mcp/everything`),
    ]);
    mkdirSync('test-results', { recursive: true });
    writeFileSync('test-results/conformance.json', JSON.stringify(results, null, 2));
  }, 600_000);

  afterAll(async () => {
    for (const c of children) c.kill();
    await forwarder?.close();
    await harness?.stop();
  });

  it('the fixture server passes every active scenario directly', () => {
    const failing = Object.entries(results.fixtureDirect ?? {}).filter(([, r]) => !passes(r));
    expect(failing).toEqual([]);
    expect(Object.keys(results.fixtureDirect ?? {}).length).toBeGreaterThanOrEqual(30);
  });

  it('through Gatehouse (fixture over stdio) every scenario passes too: progress, logging, sampling, elicitation included', () => {
    const failing = Object.entries(results.fixtureGatehouse ?? {}).filter(([, r]) => !passes(r));
    expect(failing).toEqual([]);
    expect(Object.keys(results.fixtureGatehouse ?? {}).sort()).toEqual(Object.keys(results.fixtureDirect ?? {}).sort());
  });

  it('server-everything: every scenario that passes directly passes through Gatehouse', () => {
    const direct = results.everythingDirect ?? {};
    const through = results.everythingGatehouse ?? {};
    const regressions = Object.keys(direct).filter((name) => passes(direct[name]) && !passes(through[name]));
    expect(regressions).toEqual([]);
  });

  it('dns-rebinding-protection passes through Gatehouse, where server-everything alone fails it', () => {
    expect(passes(results.everythingGatehouse?.['dns-rebinding-protection'])).toBe(true);
    expect(passes(results.everythingDirect?.['dns-rebinding-protection'])).toBe(false);
  });
});

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { readAuditKey } from '../../main/audit/checkpoint.js';
import { AuditLog } from '../../main/audit/segment-writer.js';
import { auditDirOf } from '../../main/audit/segment-files.js';
import { startHarness } from '../helpers/gateway-harness.js';
import { everythingStdio } from '../helpers/servers.js';
import { tempHome } from '../helpers/temp-home.js';
import { summarize, type LatencySummary } from './stats.js';
import { entry } from './audit-log.js';

/** 100,000 by default; GATEHOUSE_BENCH_RECORDS for a quicker look. */
const RECORDS = Number(process.env.GATEHOUSE_BENCH_RECORDS ?? 100_000);
/** A forwarder that has not caught up by then is reported as such, not waited for. */
const CAP_MS = 180_000;

/** A collector that takes everything at once (it only counts bytes): what is measured is the forwarder. */
async function sink(): Promise<{ endpoint: string; bytes: () => number; close: () => Promise<void> }> {
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/logs`, bytes: () => bytes, close: () => new Promise((r) => server.close(() => r())) };
}

async function one(encoding: 'protobuf' | 'json'): Promise<string> {
  const base = { servers: { everything: everythingStdio() }, gateway: { port: 0 } };
  const home = tempHome(base);
  const collector = await sink();
  try {
    // A log of RECORDS records, written with the gateway's own key, before forwarding is switched on.
    await (await startHarness({}, { home: home.dir, keepHome: true })).stop();
    const log = await AuditLog.open({ dir: auditDirOf(home.dir), key: readAuditKey(home.dir) as Buffer });
    const pending: Promise<number>[] = [];
    for (let i = 0; i < RECORDS; i++) pending.push(log.append(entry(i, `bench-${i % 100}`)));
    const backlog = (await Promise.all(pending)).reduce((a, b) => Math.max(a, b), 0);
    await log.close();
    writeFileSync(join(home.dir, 'gatehouse.yaml'), stringify({ ...base, forwarding: { endpoint: collector.endpoint, encoding, batchSize: 512, interval: '1s' } }));

    const h = await startHarness({}, { home: home.dir, keepHome: true });
    const started = performance.now();
    const client = await h.connect('everything');
    const during: number[] = [];
    // The calls add records of their own as they go: what is timed is the backlog reaching the collector.
    while (h.gatehouse.forwarding().forwardedSeq < backlog && h.gatehouse.forwarding().warning === undefined && performance.now() - started < CAP_MS) {
      const t = performance.now();
      await client.callTool({ name: 'echo', arguments: { message: 'while forwarding' } });
      during.push(performance.now() - t);
    }
    const seconds = (performance.now() - started) / 1000;
    const bytes = collector.bytes();
    const after: number[] = [];
    for (let i = 0; i < 300; i++) {
      const t = performance.now();
      await client.callTool({ name: 'echo', arguments: { message: 'caught up' } });
      after.push(performance.now() - t);
    }
    const status = h.gatehouse.forwarding();
    const unfinished = status.forwardedSeq < backlog ? ` — not caught up in ${CAP_MS / 1000} s: ${status.lagRecords} records waiting${status.warning ? ` (${status.warning})` : ''}` : '';
    await h.stop();
    const fmt = (s: LatencySummary) => s.samples === 0 ? 'no call (caught up first)' : `p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms (${s.samples} calls)`;
    return [
      `- ${encoding}: ${backlog.toLocaleString('en')} records in ${seconds.toFixed(1)} s = ${Math.round(backlog / seconds).toLocaleString('en')} records/s, ${(bytes / 1024 / 1024 / seconds).toFixed(1)} MiB/s on the wire (${(bytes / backlog).toFixed(0)} B/record)${unfinished}`,
      `  call latency while forwarding: ${fmt(summarize('during', during))}; after: ${fmt(summarize('after', after))}`,
    ].join('\n');
  } finally {
    await collector.close();
    home.remove();
  }
}

/** Forwarding a backlog of 100,000 ~1 KB records to a local collector, and the gateway's call latency meanwhile. */
export async function benchForwarding(): Promise<string> {
  return [`Forwarding ${RECORDS.toLocaleString('en')} ~1 KB records over OTLP/HTTP (batchSize 512, a local collector):`, await one('protobuf'), await one('json')].join('\n');
}

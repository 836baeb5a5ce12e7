import { parseConfig } from '../../main/config/load.js';
import { DEFAULT_CONFIG_YAML } from '../../main/config/default-config.js';
import { decideCall } from '../../main/policy/decide.js';
import { compilePolicy } from '../../main/policy/rules.js';
import { createMasker } from '../../main/masking/masker.js';
import { percentile } from './stats.js';
import { buildCorpus, type Sample } from '../fixtures/masking-corpus/corpus.js';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** A ~4 KB tools/call answer: file text with a few secrets and addresses in it, as masking meets them. */
function message4k(i: number): { jsonrpc: '2.0'; id: number; method: string; params: { name: string; arguments: Record<string, unknown> } } {
  const line = 'The quick brown fox jumps over the lazy dog while the build runs its tests again. ';
  const body = `${line.repeat(20)} owner: ops-${i}@example.com key AKIAIOSFODNN7EXAMPLE ${line.repeat(20)} server 10.1.2.${i % 250} ${line.repeat(8)}`;
  // Parsed from JSON, as the gateway receives it (a string built in place is a rope, which reads slower character by character).
  return JSON.parse(JSON.stringify({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'write_file', arguments: { path: `/srv/project/notes-${i}.md`, content: body, mode: 'overwrite' } } })) as ReturnType<typeof message4k>;
}

export function benchPolicyMasking(): string {
  const config = parseConfig(DEFAULT_CONFIG_YAML);
  const policy = compilePolicy(config.policy);
  const masker = createMasker({ detectors: ['secrets', 'email', 'credit-card', 'ip'], custom: [] }, Buffer.alloc(32, 3));
  const messages = Array.from({ length: 2000 }, (_, i) => message4k(i));
  const size = JSON.stringify(messages[0]).length;
  for (let i = 0; i < 2000; i++) masker.json(messages[i % messages.length]); // warm-up

  const samples: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    const m = messages[i % messages.length] as ReturnType<typeof message4k>;
    const start = process.hrtime.bigint();
    decideCall({ call: { server: 'files', tool: m.params.name, args: m.params.arguments, principal: 'local:bench', groups: [] }, policy, pin: { accepted: 'f' }, grants: [], now: 0 });
    masker.json(m);
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  samples.sort((a, b) => a - b);

  const texts = messages.map((m) => m.params.arguments.content as string);
  const bytes = texts.reduce((sum, t) => sum + t.length, 0) * 10;
  const start = performance.now();
  for (let r = 0; r < 10; r++) for (const t of texts) masker.text(t);
  const seconds = (performance.now() - start) / 1000;
  return [
    `policy decision (default rules) + masking of a ${(size / 1024).toFixed(1)} KB message (secrets, email, credit-card, ip): p50 ${percentile(samples, 50).toFixed(1)} µs, p99 ${percentile(samples, 99).toFixed(1)} µs (target p50 ≤ 50 µs)`,
    `masking throughput over text: ${(bytes / 1e6 / seconds).toFixed(0)} MB/s (target ≥ 50 MB/s)`,
    realTextFigures(masker),
    corpusFigures(masker),
    pathologicalFigures(masker),
  ].join('\n');
}

/** Every source file under a folder, joined (`.js`, `.ts`; not declarations). */
function sourcesIn(dir: string): string {
  return readdirSync(dir)
    .map((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return sourcesIn(path);
      return /\.(?:js|ts)$/.test(name) && !name.endsWith('.d.ts') ? readFileSync(path, 'utf8') : '';
    })
    .join('\n');
}

/**
 * Masking speed on what tools really carry, next to the prose above: source code (the MCP SDK's, as a coding
 * agent reads files), a lockfile, a tools/list answer, an application's log, base64 of binary data. Each 4 KB at a
 * time, as a message's strings are: MB/s and the p50 of one 4 KB piece.
 */
function realTextFigures(masker: ReturnType<typeof createMasker>): string {
  const root = join(import.meta.dirname, '../..');
  const texts: Record<string, string> = {
    'source code (the MCP SDK)': sourcesIn(join(root, 'node_modules/@modelcontextprotocol/sdk/dist/esm')).slice(0, 1_000_000),
    'package-lock.json': readFileSync(join(root, 'package-lock.json'), 'utf8').slice(0, 1_000_000),
    'a tools/list answer': JSON.stringify({ tools: Array.from({ length: 600 }, (_, i) => ({ name: `tool_${i}`, description: `Reads item ${i} from the store and returns it with its metadata.`, inputSchema: { type: 'object', properties: { id: { type: 'string', description: 'the id' }, limit: { type: 'integer', minimum: 1, maximum: 100 } }, required: ['id'] } })) }),
    'an application log': Array.from({ length: 8000 }, (_, i) => `2026-12-07T10:${String(i % 60).padStart(2, '0')}:00.123Z INFO [worker-${i % 8}] request id=${(i * 2654435761) >>> 0} path=/api/v1/items/${i} status=200 duration_ms=${i % 97} user=u${i % 50}`).join('\n'),
    'base64 of binary data': Buffer.from(Array.from({ length: 600_000 }, (_, i) => (i * 7919 + (i >> 8)) % 256)).toString('base64'),
  };
  const rows = Object.entries(texts).map(([name, text]) => {
    const pieces: string[] = [];
    for (let at = 0; at + 4096 <= text.length; at += 4096) pieces.push(text.slice(at, at + 4096));
    for (const p of pieces.slice(0, 50)) masker.text(p); // warm-up
    const times: number[] = [];
    const start = performance.now();
    for (const p of pieces) {
      const t = process.hrtime.bigint();
      masker.text(p);
      times.push(Number(process.hrtime.bigint() - t) / 1000);
    }
    const seconds = (performance.now() - start) / 1000;
    times.sort((a, b) => a - b);
    return `${name} ${((pieces.length * 4096) / 1e6 / seconds).toFixed(1)} MB/s (4 KB p50 ${percentile(times, 50).toFixed(0)} µs)`;
  });
  return `masking throughput by kind of text (4 KB pieces; target ≥ 50 MB/s): ${rows.join('; ')}`;
}

/** Recall and false positives on the masking corpus (test/fixtures/masking-corpus): the quality next to the speed. */
function corpusFigures(masker: ReturnType<typeof createMasker>): string {
  const { positives, negatives } = buildCorpus();
  const out = (s: Sample) => (typeof s.input === 'string' ? masker.text(s.input) : JSON.stringify(masker.json(s.input)));
  const found = positives.filter((p) => !out(p).includes(p.secret as string)).length;
  const falsePositives = negatives.filter((n) => out(n) !== (typeof n.input === 'string' ? n.input : JSON.stringify(n.input))).length;
  const kinds = new Set(positives.map((p) => p.kind)).size;
  return `masking corpus: recall ${((100 * found) / positives.length).toFixed(1)}% (${found}/${positives.length} secrets, ${kinds} kinds; target 100%), false positives ${((100 * falsePositives) / negatives.length).toFixed(1)}% (${falsePositives}/${negatives.length} near-misses; target ≤ 1%)`;
}

/** Inputs built to make regexes backtrack (found by the attacker's round): each must stay linear, ~200 KB in tens of ms. */
function pathologicalFigures(masker: ReturnType<typeof createMasker>): string {
  const cases: Record<string, string> = {
    'emails without spaces': 'a@b.co,'.repeat(30_000),
    'a JSON array of emails': JSON.stringify(Array.from({ length: 8000 }, (_, i) => `user${i}@example.com`)),
    'URL-password bait': `h://u:p@x/${'a.'.repeat(100_000)}://`,
    'key= chains': 'key=key=key='.repeat(15_000),
    'password= repeated': 'password=x '.repeat(20_000),
    'command-line chains': 'curl -u a:b '.repeat(20_000),
    'unclosed TOML strings': 'password = """'.repeat(15_000),
    'XML attribute chains': 'key="password" value="'.repeat(10_000),
    'base64 of text': Buffer.from('hello world this is text '.repeat(8000)).toString('base64'),
  };
  const rows = Object.entries(cases).map(([name, text]) => {
    const start = performance.now();
    masker.text(text);
    return `${name} ${(text.length / 1000).toFixed(0)} KB: ${(performance.now() - start).toFixed(0)} ms`;
  });
  return `masking, pathological inputs (linear by construction: every quantifier bounded, emails found from their @): ${rows.join('; ')}`;
}

import { parseConfig } from '../../main/config/load.js';
import { DEFAULT_CONFIG_YAML } from '../../main/config/default-config.js';
import { decideCall } from '../../main/policy/decide.js';
import { compilePolicy } from '../../main/policy/rules.js';
import { createMasker } from '../../main/masking/masker.js';
import { percentile } from './stats.js';
import { buildCorpus, type Sample } from '../fixtures/masking-corpus/corpus.js';

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
    corpusFigures(masker),
    pathologicalFigures(masker),
  ].join('\n');
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

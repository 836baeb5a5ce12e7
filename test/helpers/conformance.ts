import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const SUITE = require.resolve('@modelcontextprotocol/conformance/dist/index.js');
const NODE20_HOOK = join(import.meta.dirname, '../conformance/node20-fs-globsync.js');

export interface ScenarioResult {
  passed: number;
  failed: number;
}

/** Runs the official conformance suite's server scenarios against `url` and returns the per-scenario summary. */
export function runConformance(url: string, timeoutMs = 240_000): Promise<Record<string, ScenarioResult>> {
  const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-conformance-')); // the suite writes results/ into its cwd
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', NODE20_HOOK, SUITE, 'server', '--url', url], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the conformance suite did not finish within ${timeoutMs}ms:\n${out.slice(-2000)}`));
    }, timeoutMs);
    child.on('close', () => {
      clearTimeout(timer);
      rmSync(cwd, { recursive: true, force: true });
      const results: Record<string, ScenarioResult> = {};
      for (const m of out.matchAll(/^[✓✗] ([\w-]+): (\d+) passed, (\d+) failed/gmu)) {
        results[m[1] as string] = { passed: Number(m[2]), failed: Number(m[3]) };
      }
      if (Object.keys(results).length === 0) reject(new Error(`no summary from the conformance suite:\n${out.slice(-3000)}`));
      else resolve(results);
    });
  });
}

export const passes = (r: ScenarioResult | undefined): boolean => r !== undefined && r.failed === 0 && r.passed > 0;

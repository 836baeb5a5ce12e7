import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';

/** A throwaway GATEHOUSE_HOME with a gatehouse.yaml written from `config`. */
export function tempHome(config: Record<string, unknown> = {}): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  writeFileSync(join(dir, 'gatehouse.yaml'), stringify(config));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes a file, making its folders first (a client's config in a temporary HOME). */
export function put(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

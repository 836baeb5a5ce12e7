/*
 * The pins file, read on the call path only when it changed. Attacks:
 * - the same OS user (or the CLI while no gateway ran) replaces pins.json, by rename as editors and lowdb write:
 *   the next check reads the new file, not a copy the gateway held;
 * - a directory or FIFO put in its place: every check refuses (fail closed), not once and then the old pins;
 * - a change made while a check runs is not lost (the next check reads again);
 * - no pins file yet (no client listed tools): the checks stat nothing until one appears, and the one that
 *   appears (the CLI, another process) is read.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as fs from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PinStore } from '../../../main/policy/pin-store.js';
import { PIN_VERSION } from '../../../main/policy/tool-pins.js';

// Counts the stats of the pins file (the hot path's cost), passing every call through.
vi.mock('node:fs', async (original) => {
  const real = await original<typeof import('node:fs')>();
  return { ...real, statSync: vi.fn(real.statSync) };
});
const statsOf = (file: string) => vi.mocked(fs.statSync).mock.calls.filter(([path]) => path === file).length;

const dirs: string[] = [];
const stores: PinStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function open(): Promise<{ dir: string; store: PinStore }> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-pins-'));
  dirs.push(dir);
  const store = await PinStore.open(dir);
  stores.push(store);
  return { dir, store };
}

const pinsWith = (tool: string) => JSON.stringify({ servers: { srv: { [tool]: { v: PIN_VERSION, fingerprint: 'f'.repeat(64), definition: { name: tool }, acceptedAt: '2026-01-01T00:00:00.000Z' } } } });

/** Refreshes until `ok` holds (the watcher's event arrives on the event loop), at most ~2 s. */
async function until(store: PinStore, ok: () => boolean): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    await store.refresh();
    if (ok()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

describe('the pins file, checked only when it changed', () => {
  it('reads a file replaced by rename (an editor, the CLI) at a later check', async () => {
    const { dir, store } = await open();
    await store.pin('srv', [{ name: 'a', inputSchema: { type: 'object' } }]);
    writeFileSync(join(dir, 'pins.json.new'), pinsWith('b'));
    renameSync(join(dir, 'pins.json.new'), join(dir, 'pins.json'));
    expect(await until(store, () => store.pinFor('srv', 'b') !== undefined)).toBe(true);
    expect(store.pinFor('srv', 'a')).toBeUndefined();
  });

  it('refuses at every check while the file is a directory, and reads it again once restored', async () => {
    const { dir, store } = await open();
    await store.pin('srv', [{ name: 'a', inputSchema: { type: 'object' } }]);
    rmSync(join(dir, 'pins.json'));
    mkdirSync(join(dir, 'pins.json'));
    let refused = 0;
    for (let i = 0; i < 100 && refused < 3; i++) {
      refused += await store.refresh().then(
        () => 0,
        () => 1,
      );
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(refused).toBe(3);
    rmSync(join(dir, 'pins.json'), { recursive: true });
    writeFileSync(join(dir, 'pins.json'), pinsWith('c'));
    expect(await until(store, () => store.pinFor('srv', 'c') !== undefined)).toBe(true);
  });

  it('keeps its own writes without reading them back, and sees a change after them', async () => {
    const { dir, store } = await open();
    await store.pin('srv', [{ name: 'a', inputSchema: { type: 'object' } }]);
    await store.refresh();
    expect(store.pinFor('srv', 'a')).toBeDefined();
    writeFileSync(join(dir, 'pins.json'), pinsWith('d'));
    expect(await until(store, () => store.pinFor('srv', 'd') !== undefined)).toBe(true);
  });

  it('stats nothing at each check while there is no pins file, and reads the one that appears', async () => {
    const { dir, store } = await open();
    const file = join(dir, 'pins.json');
    await store.refresh();
    const before = statsOf(file);
    for (let i = 0; i < 50; i++) await store.refresh();
    expect(statsOf(file) - before).toBe(0);
    writeFileSync(file, pinsWith('e'));
    expect(await until(store, () => store.pinFor('srv', 'e') !== undefined)).toBe(true);
  });
});

/*
 * The backup wire keeps of each file before it changes it: the way back when everything else fails. What
 * would lose one: two files of the same name (Cursor's ~/.cursor/mcp.json and the project's .cursor/mcp.json)
 * wired in the same millisecond, the second backup written over the first.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { discoverClients } from '../../../main/clients/discover.js';
import { wireFile } from '../../../main/clients/wire.js';
import { put } from '../../helpers/temp-home.js';

const root = mkdtempSync(join(tmpdir(), 'gatehouse-wire-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('wire keeps a backup of every file it changes', () => {
  it('two files of the same name wired in the same millisecond: two backups, each the file as it was', () => {
    const home = join(root, 'home');
    const cwd = join(root, 'project');
    const dataDir = join(root, 'data');
    const user = join(home, '.cursor', 'mcp.json');
    const project = join(cwd, '.cursor', 'mcp.json');
    put(user, JSON.stringify({ mcpServers: { mine: { command: 'node', args: ['mine.js'] } } }, null, 2));
    put(project, JSON.stringify({ mcpServers: { theirs: { command: 'node', args: ['theirs.js'] } } }, null, 2));
    const originals = new Map([user, project].map((f) => [f, readFileSync(f, 'utf8')]));
    const found = discoverClients({ os: 'linux', home, cwd }).filter((f) => f.client === 'cursor');
    expect(found.map((f) => f.file).sort()).toEqual([project, user].sort());
    put(join(dataDir, 'gatehouse.yaml'), 'servers: {}\n');
    const now = new Date('2026-12-03T07:00:00.000Z');
    for (const f of found) wireFile(f, { dataDir, configFile: join(dataDir, 'gatehouse.yaml'), shim: ['gatehouse'], now });
    const backups = readdirSync(join(dataDir, 'clients', 'backups')).map((n) => readFileSync(join(dataDir, 'clients', 'backups', n), 'utf8'));
    expect(backups.sort()).toEqual([...originals.values()].sort());
  });
});

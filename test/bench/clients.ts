import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discoverClients } from '../../main/clients/discover.js';
import { unwireClients, wireClients } from '../../main/clients/wiring.js';

/**
 * Wiring a large `~/.claude.json`: Claude Code keeps every project it was opened in there, so the file grows to
 * tens of thousands of entries; here 40,000 projects (each with a few keys and some with servers of their own)
 * and 200 user servers. Finding, wiring and unwiring (byte for byte) are each timed once, after one warm-up.
 */
export function benchClients(): string {
  const root = mkdtempSync(join(tmpdir(), 'gatehouse-bench-clients-'));
  try {
    const home = join(root, 'home');
    const dataDir = join(root, 'data');
    mkdirSync(home, { recursive: true });
    mkdirSync(dataDir, { recursive: true });
    const projects: Record<string, unknown> = {};
    for (let i = 0; i < 40_000; i++) projects[`/home/dev/src/project-${i}`] = { allowedTools: [], history: [{ display: `fix the build ${i}` }], hasTrustDialogAccepted: i % 3 === 0, ...(i % 400 === 0 ? { mcpServers: { [`p${i}`]: { command: 'node', args: [`/srv/p${i}.js`] } } } : {}) };
    const mcpServers = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`s${i}`, { command: 'npx', args: ['-y', `server-${i}`], env: { TOKEN: `t${i}` } }]));
    const file = join(home, '.claude.json');
    const original = JSON.stringify({ numStartups: 4, mcpServers, projects }, null, 2);
    const figures: string[] = [];
    const time = <T>(f: () => T): [T, number] => {
      const start = performance.now();
      const out = f();
      return [out, performance.now() - start];
    };
    for (const round of ['warm-up', 'measured']) {
      writeFileSync(file, original);
      writeFileSync(join(dataDir, 'gatehouse.yaml'), 'servers: {}\n');
      rmSync(join(dataDir, 'clients'), { recursive: true, force: true });
      const [found, findMs] = time(() => discoverClients({ os: 'linux', home, cwd: root }));
      const [wired, wireMs] = time(() => wireClients(found, 'claude-code', { dataDir, configFile: join(dataDir, 'gatehouse.yaml'), shim: ['node', '/opt/gatehouse/bin/gatehouse.js'] }));
      const [unwired, unwireMs] = time(() => unwireClients(dataDir, 'claude-code'));
      const exact = readFileSync(file, 'utf8') === original;
      if (round === 'measured') {
        const servers = found.reduce((n, c) => n + c.servers.length, 0);
        figures.push(
          `client wiring, a ${(original.length / 1e6).toFixed(1)} MB ~/.claude.json (40,000 projects, ${servers} servers): find ${findMs.toFixed(0)} ms, wire ${wireMs.toFixed(0)} ms (${wired.ok ? 'ok' : 'failed'}), unwire ${unwireMs.toFixed(0)} ms (${unwired.ok && exact ? 'byte for byte' : 'NOT byte for byte'})`,
        );
      }
    }
    return figures.join('\n');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

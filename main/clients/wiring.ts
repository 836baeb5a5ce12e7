import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CLIENT_NAMES } from './client-catalogue.js';
import type { ClientView, WiringReport, WiringTarget } from './wiring-types.js';

export type { ClientView, WiringReport, WiringTarget };
import { gatewayEntry, missingShim, type ClientServer, type FoundConfig } from './discover.js';
import { readManifest, unwireFile, wireFile } from './wire.js';
import { processAlive } from '../config/process-alive.js';

/**
 * Wiring as the CLI, the UI and the tray offer it: which clients are found, and wire / unwire as one step
 * with a report in words. The file edits are wire.ts's; this only chooses the files and says what happened.
 */

export function targetOf(s: ClientServer): string {
  return s.kind === 'stdio' ? [s.command ?? '', ...(s.args ?? [])].join(' ') : (s.url ?? '');
}

/** What to do about a wired entry whose command is gone. */
export function missingAdvice(client: string, missing: string): string {
  return `it starts ${missing}, which is no longer there: \`gatehouse clients unwire ${client}\` then \`gatehouse clients wire ${client}\` writes the command of this installation`;
}

export function clientViews(found: FoundConfig[], dataDir: string, maskText: (value: string) => string): ClientView[] {
  const wired = new Set(readManifest(dataDir).files.map((f) => f.file));
  return found.map(({ client, clientName, scope, file, servers, error }) => ({
    client,
    clientName,
    scope,
    file,
    servers: servers.map((s) => {
      const missing = missingShim(s);
      return { name: s.name, kind: s.kind, target: maskText(targetOf(s)), viaGatehouse: s.viaGatehouse, ...(missing ? { missing: maskText(missing) } : {}) };
    }),
    ...(error ? { error } : {}),
    wired: wired.has(file),
  }));
}

/**
 * For a first run (no servers configured yet): which clients were found with how many servers each, and how
 * to route them through Gatehouse; undefined when there is nothing to wire.
 */
export function firstRunHint(found: FoundConfig[]): string | undefined {
  const todo = found.filter((c) => !c.error && c.servers.some((s) => !s.viaGatehouse));
  if (todo.length === 0) return undefined;
  const count = (n: number) => `${n} server${n === 1 ? '' : 's'}`;
  const per = new Map<string, number>();
  for (const c of todo) per.set(c.clientName, (per.get(c.clientName) ?? 0) + c.servers.filter((s) => !s.viaGatehouse).length);
  const list = [...per].map(([name, n]) => `${name} (${count(n)})`).join(', ');
  return `Found MCP servers in ${list}. Route them through Gatehouse with \`gatehouse clients wire --all\` (no token is written into their files; \`gatehouse clients unwire --all\` puts every file back).`;
}

/**
 * One wire or unwire at a time per data directory (two at once lost one's servers from gatehouse.yaml): a lock
 * file made exclusively, holding its process id; one left by a process that is gone is taken over.
 */
function locked(dataDir: string, run: () => WiringReport): WiringReport {
  const lock = join(dataDir, 'clients', 'wiring.lock');
  mkdirSync(dirname(lock), { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx', mode: 0o600 });
    } catch {
      const holder = Number(readFileSync(lock, 'utf8'));
      if (attempt === 0 && !(Number.isInteger(holder) && holder > 0 && processAlive(holder))) {
        rmSync(lock, { force: true });
        continue;
      }
      return { ok: false, lines: [], problems: [`another wire or unwire is running (process ${holder}); try again when it has finished`] };
    }
    try {
      return run();
    } finally {
      rmSync(lock, { force: true });
    }
  }
  return { ok: false, lines: [], problems: [`${lock} could not be taken`] };
}

/** The servers of the user's own files (any client), as gatehouse.yaml would hold them: names a project may not take. */
function userServers(found: FoundConfig[]): Map<string, Record<string, unknown>> {
  const names = new Map<string, Record<string, unknown>>();
  for (const c of found) if (c.scope === 'user' && !c.error) for (const s of c.servers) if (!s.viaGatehouse && !s.unwireable && !names.has(s.name)) names.set(s.name, gatewayEntry(s));
  return names;
}

/** Whether git tracks a file (a project's `.mcp.json`, shared with the team); false where there is no git, or no repository. */
function trackedByGit(file: string): boolean {
  try {
    execFileSync('git', ['-C', dirname(file), 'ls-files', '--error-unmatch', '--', basename(file)], { stdio: 'ignore', timeout: 5000, windowsHide: true });
    return true;
  } catch {
    return false;
  }
}

export function wireClients(found: FoundConfig[], target: WiringTarget, options: { dataDir: string; configFile: string; shim: string[] }): WiringReport {
  return locked(options.dataDir, () => wireUnlocked(found, target, options));
}

function wireUnlocked(found: FoundConfig[], target: WiringTarget, options: { dataDir: string; configFile: string; shim: string[] }): WiringReport {
  const report: WiringReport = { ok: true, lines: [], problems: [] };
  // The user's own files first: a project's server never takes a name the user's own servers go by.
  const chosen = found.filter((c) => target === 'all' || c.client === target).sort((a, b) => (a.scope === b.scope ? 0 : a.scope === 'user' ? -1 : 1));
  const reserved = userServers(found);
  if (chosen.length === 0) {
    report.ok = false;
    report.problems.push(`no ${target === 'all' ? 'MCP client' : CLIENT_NAMES[target]} configuration with servers was found; \`gatehouse clients\` lists what is found`);
    return report;
  }
  for (const c of chosen) {
    if (c.error) {
      report.ok = false;
      report.problems.push(c.error);
      continue;
    }
    try {
      const r = wireFile(c, { ...options, reserved });
      if (!r.changed) report.lines.push(`${c.clientName}: ${c.file} ${r.skipped.length ? 'has nothing else Gatehouse can wire' : 'already goes through Gatehouse'}; nothing changed`);
      else {
        report.lines.push(`${c.clientName}: ${c.file}: ${r.wired.map((w) => (w.name === w.gatewayName ? w.name : `${w.name} (as ${w.gatewayName})`)).join(', ')} now start \`gatehouse connect\` (no token written into the file)`);
        for (const x of r.renamed) report.lines.push(`  "${x.name}" is defined differently by another client: imported as "${x.gatewayName}"`);
        if (c.scope === 'project' && trackedByGit(c.file)) {
          report.lines.push(`  ${c.file} is tracked by git: its wired entries start this machine's Gatehouse (${options.shim.join(' ')}), which your team does not have; do not commit it wired (\`gatehouse clients unwire ${c.client}\` puts it back)`);
        }
      }
      for (const x of r.skipped) report.lines.push(`  "${x.name}" is left as it is: ${x.why}`);
    } catch (e) {
      report.ok = false;
      report.problems.push(`${c.file}: ${(e as Error).message}; left as it is`);
    }
  }
  return report;
}

export function unwireClients(dataDir: string, target: WiringTarget): WiringReport {
  return locked(dataDir, () => unwireUnlocked(dataDir, target));
}

function unwireUnlocked(dataDir: string, target: WiringTarget): WiringReport {
  const report: WiringReport = { ok: true, lines: [], problems: [] };
  const files = readManifest(dataDir).files.filter((f) => target === 'all' || f.client === target);
  if (files.length === 0) {
    report.ok = false;
    report.problems.push(`nothing of ${target === 'all' ? 'any client' : CLIENT_NAMES[target]} was wired by Gatehouse`);
    return report;
  }
  let conflicts = 0;
  for (const f of [...new Set(files.map((x) => x.file))]) {
    try {
      const r = unwireFile(dataDir, f);
      report.lines.push(`${f}: ${r.exact ? 'restored byte for byte' : `restored ${r.restored.join(', ') || 'nothing'}, keeping the client's own changes`}`);
      for (const name of r.conflicts) report.lines.push(`  "${name}" was changed since it was wired: left as it is now (the original is in \`gatehouse clients backups\`)`);
      conflicts += r.conflicts.length;
    } catch (e) {
      report.ok = false;
      report.problems.push(`${f}: ${(e as Error).message}; left as it is`);
    }
  }
  if (conflicts > 0) {
    report.ok = false;
    report.problems.push(`${conflicts} entr${conflicts === 1 ? 'y was' : 'ies were'} changed since wiring and left alone`);
  }
  return report;
}

import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { fingerprint, pickDefinition, type DefinitionChange, type PinRecord, type ServerPins, type ToolDefinition } from './tool-pins.js';

interface PinsData {
  servers: Record<string, ServerPins>;
}

/** Tool pins, per server, in `pins.json` of the data directory (lowdb). Shared by every session and by the CLI. */
export class PinStore {
  /** The file as last read or written (inode, size, mtime): a change within one timestamp tick still shows. */
  private seen = '';

  private constructor(
    private readonly db: Low<PinsData>,
    private readonly file: string,
  ) {}

  static async open(dataDir: string): Promise<PinStore> {
    const file = join(dataDir, 'pins.json');
    const db = new Low<PinsData>(new JSONFile(file), { servers: {} });
    await db.read();
    db.data.servers ??= {};
    return new PinStore(db, file);
  }

  /** Re-reads the file if another process (`gatehouse pins accept`) changed it since. */
  async refresh(): Promise<void> {
    let now: string;
    try {
      now = stamp(this.file);
    } catch {
      return;
    }
    if (now === this.seen) return;
    await this.db.read(); // a file that cannot be read throws here, every time, until it can (fail closed)
    this.db.data.servers ??= {};
    this.seen = now;
  }

  server(name: string): ServerPins {
    return this.db.data.servers[name] ?? {};
  }

  all(): Record<string, ServerPins> {
    return this.db.data.servers;
  }

  async pin(server: string, tools: readonly ToolDefinition[], now = new Date()): Promise<void> {
    const pins = (this.db.data.servers[server] ??= {});
    for (const tool of tools) pins[tool.name] = { fingerprint: fingerprint(tool), definition: pickDefinition(tool), acceptedAt: now.toISOString() };
    await this.write();
  }

  async markPending(server: string, tool: ToolDefinition, changes: DefinitionChange[], now = new Date()): Promise<void> {
    const pin = this.db.data.servers[server]?.[tool.name];
    if (!pin) return;
    pin.pending = { fingerprint: fingerprint(tool), definition: pickDefinition(tool), seenAt: now.toISOString(), changes };
    await this.write();
  }

  /** Accepts the pending definitions of a server's tools (all of them, or the one named). Returns the names accepted. */
  async accept(server: string, tool?: string, now = new Date()): Promise<string[]> {
    await this.refresh();
    const pins = this.db.data.servers[server] ?? {};
    const accepted: string[] = [];
    for (const [name, pin] of Object.entries(pins)) {
      if ((tool === undefined || tool === name) && pin.pending) {
        pins[name] = { fingerprint: pin.pending.fingerprint, definition: pin.pending.definition, acceptedAt: now.toISOString() } satisfies PinRecord;
        accepted.push(name);
      }
    }
    if (accepted.length) await this.write();
    return accepted;
  }

  private async write(): Promise<void> {
    await this.db.write();
    chmodSync(this.file, 0o600);
    this.seen = stamp(this.file);
  }
}

function stamp(file: string): string {
  const st = statSync(file);
  return `${st.ino}:${st.size}:${st.mtimeMs}`;
}

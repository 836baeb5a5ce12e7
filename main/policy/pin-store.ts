import { chmodSync, existsSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { fingerprint, pickDefinition, PIN_VERSION, pinOf, type DefinitionChange, type PinRecord, type ServerPins, type ToolDefinition } from './tool-pins.js';

interface PinsData {
  servers: Record<string, ServerPins>;
}

/** A map keyed by names that come from outside (server and tool names): no prototype, so `__proto__` is just a key. */
function dictionary<T>(from: unknown): Record<string, T> {
  const dict = Object.create(null) as Record<string, T>;
  if (from !== null && typeof from === 'object' && !Array.isArray(from)) for (const [k, v] of Object.entries(from)) dict[k] = v as T;
  return dict;
}

const NO_PINS: ServerPins = Object.freeze(dictionary<PinRecord>({}));

/** What `accept` took: the tool, the definition it now holds (fingerprint), and how it differs from the one before. */
export interface AcceptedPin {
  tool: string;
  fingerprint: string;
  changes: DefinitionChange[];
}

/** The pending definition is not the one that was reviewed. */
export class PendingChanged extends Error {}

/** Tool pins, per server, in `pins.json` of the data directory (lowdb). Shared by every session and by the CLI. */
export class PinStore {
  /** The file as last read or written (inode, size, mtime): a change within one timestamp tick still shows. */
  private seen = '';
  /**
   * The data directory watched for a change to the file (inotify, FSEvents, ReadDirectoryChangesW): a call's
   * check then costs nothing until something changed it. Without a watcher (unsupported, or it failed), every
   * check stats the file, as before.
   */
  private watcher: FSWatcher | undefined;
  private changed = true;

  private constructor(
    private readonly db: Low<PinsData>,
    private readonly file: string,
    /** Applied to what is stored of a definition (descriptions, schemas, diffs); fingerprints are of the definition as served. */
    private readonly mask: <T>(value: T) => T,
  ) {}

  static async open(dataDir: string, options: { mask?: <T>(value: T) => T } = {}): Promise<PinStore> {
    const file = join(dataDir, 'pins.json');
    const db = new Low<PinsData>(new JSONFile(file), { servers: {} });
    if (existsSync(file) && !statSync(file).isFile()) throw new Error(`${file} is not a regular file; restore it (or remove it to pin tools afresh)`);
    await db.read();
    normalize(db.data);
    const store = new PinStore(db, file, options.mask ?? ((v) => v));
    store.watch();
    return store;
  }

  private watch(): void {
    try {
      const name = basename(this.file);
      this.watcher = watch(dirname(this.file), { persistent: false }, (_event, changed) => {
        if (changed === null || changed === name || String(changed).startsWith(`.${name}`)) this.changed = true;
      });
      this.watcher.on('error', () => this.unwatch());
    } catch {
      this.watcher = undefined;
    }
  }

  private unwatch(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.changed = true;
  }

  /** Stops watching the file. */
  close(): void {
    this.unwatch();
  }

  /** Re-reads the file if another process changed it since (checked only when the watcher saw a change). */
  async refresh(): Promise<void> {
    if (this.watcher && !this.changed) return;
    // Cleared first: a change seen while this check runs is checked again next time.
    this.changed = false;
    try {
      await this.reread();
    } catch (err) {
      this.changed = true;
      throw err;
    }
  }

  private async reread(): Promise<void> {
    let now: string;
    try {
      now = stamp(this.file); // a stat of one small file (µs); an async stat waits behind the log's fsync in the thread pool
    } catch {
      // Gone (or not written yet): looked for again at the next check, or, while watched, once it appears.
      if (!this.watcher) this.changed = true;
      return;
    }
    if (now === this.seen) return;
    // Only a regular file is read: a FIFO or a device put in its place would block the reader for good.
    if (!statSync(this.file).isFile()) throw new Error(`${this.file} is not a regular file; restore it (or remove it to pin tools afresh)`);
    await this.db.read(); // a file that cannot be read throws here, every time, until it can (fail closed)
    normalize(this.db.data);
    this.seen = now;
  }

  server(name: string): ServerPins {
    return Object.hasOwn(this.db.data.servers, name) ? (this.db.data.servers[name] as ServerPins) : NO_PINS;
  }

  /** A tool's pin on a server. Pins are kept under the tool's name masked (a client or server chooses names). */
  pinFor(server: string, tool: string): PinRecord | undefined {
    return pinOf(this.server(server), this.mask(tool));
  }

  all(): Record<string, ServerPins> {
    return this.db.data.servers;
  }

  async pin(server: string, tools: readonly ToolDefinition[], now = new Date()): Promise<void> {
    const pins = this.serverForWrite(server);
    for (const tool of tools) pins[this.mask(tool.name)] = { v: PIN_VERSION, fingerprint: fingerprint(tool), definition: this.mask(pickDefinition(tool as ToolDefinition & Record<string, unknown>)), acceptedAt: now.toISOString() };
    await this.write();
  }

  async markPending(server: string, tool: ToolDefinition, changes: DefinitionChange[], now = new Date()): Promise<void> {
    const pin = this.pinFor(server, tool.name);
    if (!pin) return;
    pin.pending = { fingerprint: fingerprint(tool), definition: this.mask(pickDefinition(tool as ToolDefinition & Record<string, unknown>)), seenAt: now.toISOString(), changes: this.mask(changes) };
    await this.write();
  }

  /**
   * Accepts the pending definitions of a server's tools (all of them, or the one named). With `fingerprint`
   * (a prefix of what `gatehouse pins` showed), only a pending definition that is still that one: a server
   * that changed the tool again since the review is not accepted by it. Returns what was accepted.
   */
  async accept(server: string, tool?: string, options: { fingerprint?: string | undefined; now?: Date } = {}): Promise<AcceptedPin[]> {
    await this.refresh();
    const pins = this.server(server);
    const accepted: AcceptedPin[] = [];
    for (const [name, pin] of Object.entries(pins)) {
      if ((tool === undefined || tool === name || this.mask(tool) === name) && pin.pending) {
        if (options.fingerprint !== undefined && !pin.pending.fingerprint.startsWith(options.fingerprint.toLowerCase())) {
          throw new PendingChanged(`the pending definition of ${name} on ${server} is now ${pin.pending.fingerprint.slice(0, 12)}, not ${options.fingerprint}: the server changed it again since it was reviewed; review \`gatehouse pins\` again`);
        }
        accepted.push({ tool: name, fingerprint: pin.pending.fingerprint, changes: pin.pending.changes });
        pins[name] = { v: PIN_VERSION, fingerprint: pin.pending.fingerprint, definition: pin.pending.definition, acceptedAt: (options.now ?? new Date()).toISOString() } satisfies PinRecord;
      }
    }
    if (accepted.length) await this.write();
    return accepted;
  }

  private serverForWrite(server: string): ServerPins {
    if (!Object.hasOwn(this.db.data.servers, server)) this.db.data.servers[server] = dictionary<PinRecord>({});
    return this.db.data.servers[server] as ServerPins;
  }

  private async write(): Promise<void> {
    await this.db.write();
    chmodSync(this.file, 0o600);
    this.seen = stamp(this.file);
  }
}

function stamp(file: string): string {
  return stampOf(statSync(file));
}

function stampOf(st: { ino: number; size: number; mtimeMs: number }): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}`;
}

/** Servers and their pins as prototype-less maps, whatever the file held. */
function normalize(data: PinsData): void {
  const servers = dictionary<ServerPins>(data.servers);
  for (const name of Object.keys(servers)) servers[name] = dictionary<PinRecord>(servers[name]);
  data.servers = servers;
}

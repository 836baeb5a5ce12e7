import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { createMasker, type Masker } from '../masking/masker.js';
import { compilePolicy, type CompiledPolicy } from '../policy/rules.js';
import { ConfigError, loadConfigFile, type ConfigProblem } from './load.js';
import type { GatehouseConfig } from './schema.js';

/** The parts of the config that take effect while running, compiled. */
export interface LiveState {
  config: GatehouseConfig;
  policy: CompiledPolicy;
  masker: Masker;
  /**
   * What `masking.inline` applies to what the client receives: the same detectors, but tokens without the
   * keyed hash (`[MASKED:password]`), so that a client cannot test guesses of a secret against its token.
   */
  inlineMasker: Masker;
}

export interface LiveConfigEvents {
  reloaded: [LiveState];
  invalid: [ConfigProblem[]];
}

const DEBOUNCE_MS = 200;

/**
 * gatehouse.yaml as the running gateway sees it. Edits are picked up as they are saved; an edit that does not
 * validate is refused whole, the last good config keeps deciding, and `lastError` says what is wrong
 * (file, line, key) until a good edit replaces it.
 */
export class LiveConfig extends EventEmitter<LiveConfigEvents> {
  private state: LiveState;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  lastError: ConfigProblem[] | undefined;

  constructor(
    readonly file: string,
    initial: GatehouseConfig,
    private readonly maskKey: Buffer,
  ) {
    super();
    this.state = this.compile(initial);
  }

  get current(): LiveState {
    return this.state;
  }

  /** Re-reads the file now. Returns false (and keeps the old config) if it does not validate. */
  reload(): boolean {
    let config: GatehouseConfig;
    try {
      config = loadConfigFile(this.file, { create: false });
    } catch (err) {
      this.lastError = err instanceof ConfigError ? err.problems : [{ file: this.file, line: 0, column: 0, key: '', message: (err as Error).message }];
      this.emit('invalid', this.lastError);
      return false;
    }
    this.lastError = undefined;
    this.state = this.compile(config);
    this.emit('reloaded', this.state);
    return true;
  }

  watch(): void {
    const name = basename(this.file);
    // The folder, not the file: editors often save by writing a new file and renaming it over the old one.
    this.watcher = watch(dirname(this.file), (_event, changed) => {
      if (changed !== null && changed !== name) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.reload(), DEBOUNCE_MS);
    });
    this.watcher.unref();
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
  }

  private compile(config: GatehouseConfig): LiveState {
    return { config, policy: compilePolicy(config.policy), masker: createMasker(config.masking, this.maskKey), inlineMasker: createMasker(config.masking, this.maskKey, { anonymous: true }) };
  }
}

import type { ChangeEvent } from './types.js';

const COALESCE_MS = 200;

/**
 * What the UI should refresh, coalesced: at most one event of each kind (and session) every 200 ms, however
 * fast records arrive. The web shell streams it over SSE, the desktop over IPC.
 */
export class ChangeFeed {
  private readonly listeners = new Set<(event: ChangeEvent) => void>();
  private pending = new Map<string, ChangeEvent>();
  private timer: NodeJS.Timeout | undefined;

  notify(event: ChangeEvent): void {
    if (this.listeners.size === 0) return;
    this.pending.set(`${event.kind}|${event.session ?? ''}`, event);
    this.timer ??= setTimeout(() => this.flush(), COALESCE_MS);
  }

  subscribe(listener: (event: ChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private flush(): void {
    this.timer = undefined;
    const events = [...this.pending.values()];
    this.pending = new Map();
    for (const event of events) for (const listener of this.listeners) listener(event);
  }
}

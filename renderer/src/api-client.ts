import { API_METHODS, type ApiMethod, type ChangeEvent, type ChangeSource, type GatehouseApi } from '../../main/api/types';
import { API_TABLE, requestFor, type VerbArgs, type VerbResult } from '../../main/api/table';

declare global {
  interface Window {
    /** Present in the Electron window (preload); absent in the browser. */
    gatehouse?: GatehouseApi;
    gatehouseChanges?: ChangeSource;
  }
}

/** The page's sign-in to the gateway has ended (its cookie is no longer known: the gateway restarted, or it expired). */
export class SignedOut extends Error {}

/** How the page stands with its gateway: connected, not answering (retrying), or no longer signed in. */
export type Link = 'open' | 'lost' | 'signed-out';
const linkWatchers = new Set<(link: Link) => void>();
let link: Link = 'open';
function setLink(next: Link): void {
  if (next === link) return;
  link = next;
  for (const watch of linkWatchers) watch(next);
}
/** Tells `watch` how the page stands with its gateway now, and at every change. (The desktop window's IPC is always open.) */
export function watchLink(watch: (link: Link) => void): () => void {
  linkWatchers.add(watch);
  watch(link);
  return () => linkWatchers.delete(watch);
}

/**
 * A verb over the gateway's JSON API (its route from the API table), with the browser's session cookie. A result
 * that says it did not happen (`{ok: false}`, with the status the table names for it: a refused decision, a grant
 * already gone) is a result; any other failure is an error, never a result (an unknown session is not "no records").
 */
async function call<V extends ApiMethod>(verb: V, args: VerbArgs<V>): Promise<VerbResult<V>> {
  const { method, url, body } = requestFor(verb, args);
  const res = await fetch(url, {
    method,
    credentials: 'same-origin',
    headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (res.status === 401) {
    setLink('signed-out');
    throw new SignedOut('this page is no longer signed in to the gateway');
  }
  const answer: unknown = await res.json().catch(() => undefined);
  if (res.ok) return answer as VerbResult<V>;
  if (res.status === API_TABLE[verb].refused && typeof (answer as { ok?: unknown } | undefined)?.ok === 'boolean') return answer as VerbResult<V>;
  const said = (answer as { error?: unknown } | undefined)?.error ?? (answer as { message?: unknown } | undefined)?.message;
  throw new Error(typeof said === 'string' ? said : `${url}: HTTP ${res.status}`);
}

/** GatehouseApi over HTTP: every verb of the API table. */
function httpApi(): GatehouseApi {
  return Object.fromEntries(API_METHODS.map((verb) => [verb, (...args: VerbArgs<typeof verb>) => call(verb, args)])) as unknown as GatehouseApi;
}

/**
 * Changes over server-sent events (the browser); the cookie signs the stream in. One stream for every view that
 * listens. A stream that drops (the gateway stopped) is retried and the page told it is `lost`; one the gateway
 * refuses (a restart forgot the cookie) is `signed-out`. Back again, every listener hears a change, so that
 * each view reloads what it shows.
 */
function sseChanges(): ChangeSource {
  const listeners = new Set<(event: ChangeEvent) => void>();
  let source: EventSource | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const tell = (event: ChangeEvent) => {
    for (const listener of listeners) listener(event);
  };
  const probe = async () => {
    // (A refused sign-in makes the call say `signed-out` itself; anything else, an answer too, leaves the stream to retry.)
    await call('status', []).then(
      () => setLink('lost'),
      (err: unknown) => err instanceof SignedOut || setLink('lost'),
    );
    if (listeners.size > 0 && link !== 'signed-out') retry = setTimeout(open, 2_000);
  };
  const open = () => {
    source?.close();
    source = new EventSource('/api/events');
    source.addEventListener('change', (e: MessageEvent<string>) => tell(JSON.parse(e.data) as ChangeEvent));
    source.addEventListener('open', () => {
      const was = link;
      setLink('open');
      if (was !== 'open') for (const kind of ['records', 'approvals', 'config'] as const) tell({ kind });
    });
    source.addEventListener('error', () => {
      // (Closed: the gateway answered, but not with a stream. Still connecting: the browser retries by itself.)
      if (source?.readyState === EventSource.CLOSED) void probe();
      else setLink('lost');
    });
  };
  return {
    subscribe(listener) {
      listeners.add(listener);
      if (!source) open();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) {
          clearTimeout(retry);
          source?.close();
          source = undefined;
        }
      };
    },
  };
}

/** The one GatehouseApi the UI uses: IPC in the desktop app, HTTP in the browser. */
export const api: GatehouseApi = window.gatehouse ?? httpApi();
export const changes: ChangeSource = window.gatehouseChanges ?? sseChanges();

import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

/**
 * fetch for long-lived MCP HTTP client transports. The SDK passes one connection-wide AbortSignal to every
 * request, and Node's fetch (undici) adds an abort listener to it per request that goes only on abort or
 * garbage collection, so a busy session piles up listeners without bound. Each request here gets its own
 * signal, bridged from the shared one for as long as the request can still be cancelled.
 */
export function abortIsolatingFetch(base: FetchLike = fetch): FetchLike {
  return async (url, init) => {
    const shared = init?.signal;
    if (!shared || shared.aborted) return base(url, init);
    const own = new AbortController();
    const forward = () => own.abort(shared.reason);
    shared.addEventListener('abort', forward, { once: true });
    const release = () => shared.removeEventListener('abort', forward);
    let response: Response;
    try {
      response = await base(url, { ...init, signal: own.signal });
    } catch (err) {
      release();
      throw err;
    }
    if (!response.body || !/^text\/event-stream/i.test(response.headers.get('content-type') ?? '')) {
      // A JSON or empty body is read at once; only a stream needs to stay cancellable.
      release();
      return response;
    }
    const body = response.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ flush: release }));
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

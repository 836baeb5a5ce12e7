import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { idNear } from './upstream.js';

/** What to do with a message from an HTTP server that is larger than the limit: which request it answered, how large it was (if known: a body is not read past the limit). */
export type TooLarge = (id: string | number | undefined, size: number | undefined) => void;

/**
 * fetch for an HTTP upstream that holds every message to gateway.maxBodySize, as the stdio reader does: a JSON
 * answer larger than that is not read past the limit (the request is reported, and the transport is told
 * "accepted", so that it waits for nothing); an event of an event stream larger than that is dropped from the
 * stream and reported, and the stream goes on. The request a dropped message answered is named by the id the
 * POST carried, or (in a stream) by the id near the event's start.
 */
export function sizeLimitedFetch(base: FetchLike, limit: number, tooLarge: TooLarge): FetchLike {
  return async (url, init) => {
    const response = await base(url, init);
    if (!response.body) return response;
    const type = response.headers.get('content-type') ?? '';
    if (/^application\/json/i.test(type)) {
      const id = requestIdOf(init?.body);
      const declared = Number(response.headers.get('content-length') ?? NaN);
      if (Number.isFinite(declared) && declared > limit) {
        void response.body.cancel().catch(() => undefined);
        tooLarge(id, declared);
        return accepted(response);
      }
      const reader = response.body.getReader();
      const chunks: Uint8Array[] = [];
      let size = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.length;
        if (size > limit) {
          void reader.cancel().catch(() => undefined);
          tooLarge(id, undefined);
          return accepted(response);
        }
        chunks.push(value);
      }
      return new Response(Buffer.concat(chunks, size), { status: response.status, statusText: response.statusText, headers: response.headers });
    }
    if (/^text\/event-stream/i.test(type)) {
      return new Response(response.body.pipeThrough(boundedEvents(limit, tooLarge)), { status: response.status, statusText: response.statusText, headers: response.headers });
    }
    return response;
  };
}

/** "Accepted, nothing to read": what the transport is given in place of an answer that was too large. */
function accepted(response: Response): Response {
  const headers = new Headers();
  const session = response.headers.get('mcp-session-id');
  if (session) headers.set('mcp-session-id', session);
  return new Response(null, { status: 202, headers });
}

function requestIdOf(body: unknown): string | number | undefined {
  if (typeof body !== 'string') return undefined;
  try {
    const id = (JSON.parse(body) as { id?: unknown }).id;
    return typeof id === 'string' || typeof id === 'number' ? id : undefined;
  } catch {
    return undefined;
  }
}


/**
 * An event stream whose events are passed on whole, each once it ends (a blank line), unless it grows past the
 * limit: then what came of it is dropped, the rest of it is skipped up to its end, and it is reported.
 */
function boundedEvents(limit: number, tooLarge: TooLarge): TransformStream<Uint8Array, Uint8Array> {
  let event: Uint8Array[] = [];
  let size = 0;
  let head = '';
  let dropping = false;
  // The two bytes before the one being looked at, across chunks: an event ends at "\n\n" or "\n\r\n".
  let p1 = -1;
  let p2 = -1;
  const take = (part: Uint8Array) => {
    if (part.length === 0) return;
    if (!dropping && size + part.length > limit) {
      dropping = true;
      head = Buffer.concat([...event, part]).toString('utf8', 0, 1024);
      event = [];
    }
    if (!dropping) event.push(part);
    size += part.length;
  };
  return new TransformStream({
    transform(chunk, out) {
      let start = 0;
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i] as number;
        const ends = b === 0x0a && (p1 === 0x0a || (p1 === 0x0d && p2 === 0x0a));
        p2 = p1;
        p1 = b;
        if (!ends) continue;
        take(chunk.subarray(start, i + 1));
        start = i + 1;
        if (dropping) tooLarge(idNear(head), size);
        else out.enqueue(Buffer.concat(event));
        event = [];
        size = 0;
        head = '';
        dropping = false;
      }
      take(chunk.subarray(start));
    },
    flush(out) {
      if (!dropping && event.length) out.enqueue(Buffer.concat(event));
    },
  });
}

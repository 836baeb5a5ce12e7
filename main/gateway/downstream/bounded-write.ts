import type { ServerResponse } from 'node:http';

/** What a stream does when its client stops reading: how much may wait unsent, and whom to tell when it is cut. */
export interface StreamBound {
  /** Bytes that may wait in the response's buffer (not yet taken by the client) before the stream is cut. */
  maxBuffered: number;
  onCut(buffered: number): void;
}

/**
 * Writes to an event stream unless the client has stopped reading: what waits unsent past the bound is not
 * buffered without end (memory is the gateway's, and every session shares it); the stream is destroyed instead,
 * and `onCut` records why. Returns false once the stream is gone.
 */
export function writeBounded(res: ServerResponse, chunk: string, bound: StreamBound | undefined): boolean {
  if (res.writableEnded || res.destroyed) return false;
  res.write(chunk);
  if (bound && res.writableLength > bound.maxBuffered) {
    const buffered = res.writableLength;
    res.destroy();
    bound.onCut(buffered);
    return false;
  }
  return true;
}

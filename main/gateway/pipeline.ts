import type { JSONRPCMessage } from './jsonrpc.js';

export type Direction = 'client->server' | 'server->client';

/** What an interceptor sees besides the message: the session it belongs to and which way it travels. */
export interface MessageContext {
  readonly sessionId: string;
  readonly server: string;
  readonly direction: Direction;
  readonly client: Readonly<{ name?: string; version?: string }>;
  /** `gatehouse` for an answer Gatehouse gave in place of the other side (a denial, a failure), else `peer`. */
  readonly origin: 'peer' | 'gatehouse';
  /** Sends a message of Gatehouse's own to the client (progress while a call waits for approval). */
  readonly notifyClient: (message: JSONRPCMessage) => void;
}

/**
 * What an interceptor decides:
 * - `forward` the (possibly rewritten) message on to the other side;
 * - `respond` in place of the other side (only meaningful for requests: the reply goes back to the sender);
 * - `drop` the message.
 */
export type Verdict =
  | { readonly action: 'forward'; readonly message: JSONRPCMessage }
  | { readonly action: 'respond'; readonly message: JSONRPCMessage }
  | { readonly action: 'drop'; readonly reason: string };

/** One step of the message pipeline. It may observe, rewrite, hold (return a promise) or answer. */
export interface Interceptor {
  readonly name: string;
  intercept(message: JSONRPCMessage, context: MessageContext): Verdict | Promise<Verdict>;
}

export class InterceptorError extends Error {
  constructor(
    readonly interceptor: string,
    cause: unknown,
  ) {
    super(`interceptor "${interceptor}" failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'InterceptorError';
  }
}

/**
 * Runs a message through the interceptors in order. Stays synchronous while every interceptor is,
 * so the common path costs no extra ticks; a held message waits alone without blocking others.
 * A throwing interceptor rejects with InterceptorError, and the caller fails closed.
 */
export function runPipeline(
  interceptors: readonly Interceptor[],
  message: JSONRPCMessage,
  context: MessageContext,
): Verdict | Promise<Verdict> {
  let current = message;
  for (let i = 0; i < interceptors.length; i++) {
    const interceptor = interceptors[i] as Interceptor;
    let verdict: Verdict | Promise<Verdict>;
    try {
      verdict = interceptor.intercept(current, context);
    } catch (err) {
      throw new InterceptorError(interceptor.name, err);
    }
    if (verdict instanceof Promise) return continueAsync(interceptors, i, verdict, context);
    if (verdict.action !== 'forward') return verdict;
    current = verdict.message;
  }
  return { action: 'forward', message: current };
}

async function continueAsync(
  interceptors: readonly Interceptor[],
  index: number,
  pending: Promise<Verdict>,
  context: MessageContext,
): Promise<Verdict> {
  let verdict: Verdict;
  try {
    verdict = await pending;
  } catch (err) {
    throw new InterceptorError((interceptors[index] as Interceptor).name, err);
  }
  if (verdict.action !== 'forward') return verdict;
  return runPipeline(interceptors.slice(index + 1), verdict.message, context);
}

/** The step-1 pipeline: forwards everything unchanged. Later steps add recording, policy, masking, approvals. */
export const passThrough: Interceptor = {
  name: 'pass-through',
  intercept: (message) => ({ action: 'forward', message }),
};

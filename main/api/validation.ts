import { CLIENT_IDS } from '../clients/wiring-types.js';
import { z } from 'zod';
import { parseDuration } from '../config/units.js';
import type { ApprovalDecision } from './types.js';

/** An approval decision as it arrives from outside (HTTP body, IPC argument): checked before it reaches the broker. */
export const approvalDecisionSchema = z.union([
  z.strictObject({
    action: z.literal('allow'),
    forMs: z.number().int().positive().max(30 * 86_400_000).optional(),
    bindArgs: z.boolean().optional(),
  }),
  z.strictObject({ action: z.literal('deny'), reason: z.string().max(2000).optional() }),
]) satisfies z.ZodType<ApprovalDecision>;

export const approvalId = z.string().min(4).max(64).regex(/^[0-9a-f-]+$/);

/** `--for 1h` and friends, for the CLI. */
export function durationMs(text: string): number | undefined {
  return parseDuration(text);
}

/** A timeline filter as it arrives from outside. */
export const sessionFilterSchema = z.strictObject({
  id: z.string().max(100).optional(),
  server: z.string().max(200).optional(),
  client: z.string().max(200).optional(),
  tool: z.string().max(200).optional(),
  principal: z.string().max(200).optional(),
  decision: z.enum(['denied', 'approved', 'any']).optional(),
  since: z.number().optional(),
  until: z.number().optional(),
  text: z.string().max(500).optional(),
  offset: z.number().int().nonnegative().optional(),
  limit: z.number().int().positive().max(5000).optional(),
});

export const sessionId = z.string().min(1).max(100).regex(/^[A-Za-z0-9-]+$/);

/** `gatehouse pins accept` as it reaches the gateway. */
export const pinAcceptSchema = z.strictObject({
  server: z.string().min(1).max(64),
  tool: z.string().min(1).max(256).optional(),
  fingerprint: z.string().regex(/^[0-9a-fA-F]{6,64}$/).optional(),
});

/** Which client to wire or unwire: one of the ids `gatehouse clients` uses, or all of them. */
export const wiringTargetSchema = z.strictObject({ client: z.enum([...CLIENT_IDS, 'all']) });

export const recordingSchema = z.strictObject({ paused: z.boolean() });

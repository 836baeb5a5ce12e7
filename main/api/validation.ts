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

export const portName = z.string().regex(/^[a-z][a-z-]{1,20}$/);
export const approvalId = z.string().min(4).max(64).regex(/^[0-9a-f-]+$/);

/** `--for 1h` and friends, for the CLI. */
export function durationMs(text: string): number | undefined {
  return parseDuration(text);
}

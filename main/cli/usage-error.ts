/** Bad usage or bad input: the CLI prints the message on one line and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A check that ran and failed (an unreachable server, a broken log): exit 1. */
export class CheckFailed extends Error {
  override name = 'CheckFailed';
}

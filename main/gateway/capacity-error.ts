/** Too many concurrent sessions, or no room for another live server process: the endpoint answers 503. */
export class CapacityError extends Error {}

/** A message that never reached the server (it could not be started or woken): a request of it did not run. */
export class NotSentError extends Error {
  readonly notSent = true;
}

/**
 * The ports a person decides an approval through. Each is set by the route the decision came in by (the
 * tray, a native dialog, the app's window over IPC, the browser's session, the CLI's bearer token…), never by
 * what the decision says. No imports, so that the UI's types can name them.
 */
export const DECIDER_PORTS = ['tray', 'dialog', 'window', 'web', 'cli', 'elicitation', 'demo'] as const;
export type DeciderPort = (typeof DECIDER_PORTS)[number];

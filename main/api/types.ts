/**
 * GatehouseApi: the one interface the UI uses. The core implements it once (api/core-api.ts); the desktop
 * preload exposes it over IPC and the web shell over HTTP. The renderer never knows which. Plain data only.
 */

export interface GatewayStatus {
  version: string;
  /** Base URL of the gateway, e.g. http://127.0.0.1:5757 */
  url: string;
  dataDir: string;
  configFile: string;
  startedAt: number;
  activeSessions: number;
  /** Set while gatehouse.yaml holds an edit that does not validate: what is wrong (file:line key: message). */
  configErrors?: string[];
}

export interface ServerEntry {
  name: string;
  /** `stdio`, or for a URL server the configured transport (`auto`, `streamable-http`, `sse`). */
  transport: string;
  /** The command line of a stdio server, or the URL of a remote one. */
  target: string;
  /** The endpoint clients use to reach it through Gatehouse. */
  endpoint: string;
  activeSessions: number;
}

export interface LiveSession {
  id: string;
  server: string;
  upstream: string;
  client: { name?: string; version?: string };
  protocolVersion?: string;
  startedAt: number;
  lastActivity: number;
}

export interface GatehouseApi {
  status(): Promise<GatewayStatus>;
  servers(): Promise<ServerEntry[]>;
  liveSessions(): Promise<LiveSession[]>;
}

/** Every GatehouseApi verb, in one list: the IPC channels, the preload bridge and the HTTP routes derive from it. */
export const API_METHODS = ['status', 'servers', 'liveSessions'] as const satisfies readonly (keyof GatehouseApi)[];
export type ApiMethod = (typeof API_METHODS)[number];

/** The IPC channel of a verb. */
export const apiChannel = (method: ApiMethod): string => `gatehouse:${method}`;

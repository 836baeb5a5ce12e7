/** What the API and the UI say about client wiring: plain types with no Node import, so that the renderer can use them. */

/** The MCP clients Gatehouse knows, by the ids the CLI uses (CONTRACT.md). */
export const CLIENT_IDS = ['claude-desktop', 'claude-code', 'cursor', 'vscode', 'windsurf', 'gemini'] as const;
export type ClientId = (typeof CLIENT_IDS)[number];

/** A client's config file as shown: its servers' targets masked (a database URL in an argument is a secret). */
export interface ClientView {
  client: ClientId;
  clientName: string;
  scope: 'user' | 'project';
  file: string;
  /** `missing`: a wired entry starts a command that is no longer there (the client cannot reach Gatehouse through it). */
  servers: { name: string; kind: 'stdio' | 'http'; target: string; viaGatehouse: boolean; missing?: string }[];
  /** The file does not parse: what is wrong and where; it is left alone. */
  error?: string;
  /** Gatehouse wired this file (unwire puts it back). */
  wired: boolean;
}

/** What a wire or unwire did, in sentences for the person who asked; `ok` false when anything was left undone. */
export interface WiringReport {
  ok: boolean;
  lines: string[];
  problems: string[];
}

export type WiringTarget = ClientId | 'all';

import { canonicalJson, digestOf } from './canonical-json.js';

/** What a tool is, as far as an agent can tell: the fields a poisoned or "rug-pulled" tool would change. */
export interface ToolDefinition {
  name: string;
  description?: string | undefined;
  inputSchema?: unknown;
}

export interface DefinitionChange {
  path: string;
  before: unknown;
  after: unknown;
}

export function pickDefinition(tool: { name: string; description?: unknown; inputSchema?: unknown }): ToolDefinition {
  return { name: tool.name, description: typeof tool.description === 'string' ? tool.description : undefined, inputSchema: tool.inputSchema };
}

export function fingerprint(tool: ToolDefinition): string {
  return digestOf(pickDefinition(tool));
}

/** Where two definitions differ, path by path. */
export function diffDefinitions(before: unknown, after: unknown, path = ''): DefinitionChange[] {
  if (canonicalJson(before) === canonicalJson(after)) return [];
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => diffDefinitions(before[k], after[k], path ? `${path}.${k}` : k));
  }
  return [{ path: path || '(whole)', before, after }];
}

export interface PinRecord {
  fingerprint: string;
  definition: ToolDefinition;
  acceptedAt: string;
  /** A definition seen since, not yet accepted. */
  pending?: { fingerprint: string; definition: ToolDefinition; seenAt: string; changes: DefinitionChange[] } | undefined;
}

export type ServerPins = Record<string, PinRecord>;

export interface ListingReview {
  /** Tools seen for the first time: pin them as they are. */
  added: ToolDefinition[];
  /** Tools whose definition differs from the accepted one, newly or again. */
  changed: { name: string; definition: ToolDefinition; fingerprint: string; changes: DefinitionChange[]; known: boolean }[];
}

/** Compares a tools/list against a server's pins. Pure. */
export function reviewListing(pins: ServerPins, tools: readonly ToolDefinition[]): ListingReview {
  const review: ListingReview = { added: [], changed: [] };
  for (const tool of tools) {
    const pin = pins[tool.name];
    const print = fingerprint(tool);
    if (!pin) review.added.push(pickDefinition(tool));
    else if (pin.fingerprint !== print) {
      review.changed.push({ name: tool.name, definition: pickDefinition(tool), fingerprint: print, changes: diffDefinitions(pin.definition, pickDefinition(tool)), known: pin.pending?.fingerprint === print });
    }
  }
  return review;
}

import { canonicalJson, digestOf } from './canonical-json.js';

/**
 * What a tool is, as far as an agent (or the person approving it) can tell: every field of the tool's listing
 * a poisoned or "rug-pulled" tool could change — its name, title, description, input and output schemas,
 * annotations (readOnlyHint, destructiveHint…) and _meta.
 */
export interface ToolDefinition {
  name: string;
  title?: string | undefined;
  description?: string | undefined;
  inputSchema?: unknown;
  outputSchema?: unknown;
  annotations?: unknown;
  _meta?: unknown;
}

/** Pins written before the fingerprint covered more than name, description and input schema have no `v`. */
export const PIN_VERSION = 2;

export interface DefinitionChange {
  path: string;
  before: unknown;
  after: unknown;
}

export function pickDefinition(tool: { name: string } & Record<string, unknown>): ToolDefinition {
  return {
    name: tool.name,
    title: typeof tool.title === 'string' ? tool.title : undefined,
    description: typeof tool.description === 'string' ? tool.description : undefined,
    inputSchema: tool.inputSchema,
    outputSchema: tool.outputSchema,
    annotations: tool.annotations,
    _meta: tool._meta,
  };
}

export function fingerprint(tool: ToolDefinition): string {
  return digestOf(pickDefinition(tool as ToolDefinition & Record<string, unknown>));
}

/** The fingerprint of a pin without `v`: name, description and input schema only. */
function legacyFingerprint(tool: ToolDefinition): string {
  return digestOf({ name: tool.name, description: tool.description, inputSchema: tool.inputSchema });
}

/** A server's pin for a tool: own properties only, so that a tool named `__proto__` or `constructor` is just a name. */
export function pinOf(pins: ServerPins, tool: string): PinRecord | undefined {
  return Object.hasOwn(pins, tool) ? pins[tool] : undefined;
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
  /** PIN_VERSION; absent in pins written before it. */
  v?: number | undefined;
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
  /** Old pins whose fields they covered are unchanged: re-pinned with every field (trust on upgrade, once). */
  upgraded: ToolDefinition[];
}

/**
 * Compares a tools/list against a server's pins. Pure. Pins store definitions masked (`mask`): a changed
 * definition is diffed masked against them, so that a field holding a secret is not reported as changed.
 */
export function reviewListing(pins: ServerPins, tools: readonly ToolDefinition[], mask: <T>(value: T) => T = (v) => v): ListingReview {
  const review: ListingReview = { added: [], changed: [], upgraded: [] };
  for (const tool of tools) {
    const pin = pinOf(pins, mask(tool.name));
    const definition = pickDefinition(tool as ToolDefinition & Record<string, unknown>);
    const print = fingerprint(definition);
    if (!pin) review.added.push(definition);
    else if (pin.fingerprint === print) continue;
    else if (pin.v === undefined && pin.fingerprint === legacyFingerprint(definition)) review.upgraded.push(definition);
    else review.changed.push({ name: tool.name, definition, fingerprint: print, changes: diffDefinitions(pin.definition, mask(definition)), known: pin.pending?.fingerprint === print });
  }
  return review;
}

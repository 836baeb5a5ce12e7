import type { AuditRecord } from './record.js';

const MAX = 120;

/** One readable line for a record: what it was, and the gist of its arguments or result. */
export function summarizeRecord(record: AuditRecord): string {
  const arrow = record.direction === 'client->server' ? '→' : record.direction === 'server->client' ? '←' : '●';
  const what = [record.method ?? record.event ?? record.kind, record.tool].filter(Boolean).join(' ');
  const payload = record.payload as { params?: { arguments?: unknown } & Record<string, unknown>; result?: unknown; error?: { code?: number; message?: string } } | undefined;
  let gist = '';
  switch (record.kind) {
    case 'request':
    case 'notification':
      gist = record.method === 'tools/call' ? describeValue(payload?.params?.arguments) : describeValue(withoutMeta(payload?.params));
      break;
    case 'response':
      gist = describeResult(payload?.result);
      break;
    case 'error':
      gist = `error ${payload?.error?.code ?? ''}: ${payload?.error?.message ?? ''}`;
      break;
    case 'event':
    case 'decision':
    case 'checkpoint':
      gist = describeValue(record.detail ?? record.decision);
      break;
  }
  const kind = record.kind === 'response' || record.kind === 'error' || record.kind === 'request' || record.kind === 'notification' ? '' : `${record.kind} `;
  return `${arrow} ${kind}${what}${gist ? `  ${clip(gist)}` : ''}`;
}

function withoutMeta(params: Record<string, unknown> | undefined): unknown {
  if (!params) return undefined;
  const { _meta: _ignored, ...rest } = params;
  return Object.keys(rest).length ? rest : undefined;
}

function describeResult(result: unknown): string {
  if (result === undefined || result === null) return '';
  const r = result as { content?: { type?: string; text?: string }[]; isError?: boolean; tools?: unknown[]; resources?: unknown[]; prompts?: unknown[]; serverInfo?: { name?: string; version?: string }; contents?: unknown[] };
  if (Array.isArray(r.content)) {
    const parts = r.content.map((c) => (c.type === 'text' ? JSON.stringify(c.text ?? '') : `[${c.type ?? 'content'}]`));
    return `${r.isError ? 'tool error: ' : ''}${parts.join(' ')}`;
  }
  if (r.serverInfo) return `server ${r.serverInfo.name ?? '?'} ${r.serverInfo.version ?? ''}`.trim();
  for (const key of ['tools', 'resources', 'prompts', 'contents'] as const) {
    if (Array.isArray(r[key])) return `${r[key].length} ${key}`;
  }
  return describeValue(result);
}

function describeValue(value: unknown): string {
  if (value === undefined) return '';
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v)}`)
      .join(', ');
  }
  return JSON.stringify(value) ?? '';
}

function clip(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > MAX ? `${oneLine.slice(0, MAX - 1)}…` : oneLine;
}

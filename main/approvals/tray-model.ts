import type { ApprovalDecision, ApprovalView } from '../api/types.js';

export type TrayIcon = 'idle' | 'recording' | 'pending' | 'paused' | 'error';

export type TrayAction =
  | { kind: 'decide'; id: string; decision: ApprovalDecision }
  | { kind: 'open-timeline' }
  | { kind: 'open-clients' }
  /** A view of the window, by its address (`/integrity`). */
  | { kind: 'open-view'; path: string }
  | { kind: 'toggle-pause' }
  | { kind: 'toggle-start-at-login' }
  | { kind: 'sign-in' }
  | { kind: 'sign-out' }
  | { kind: 'quit' };

export interface TrayItem {
  label: string;
  action?: TrayAction;
  enabled?: boolean;
  checked?: boolean;
  separator?: boolean;
  submenu?: TrayItem[];
}

export interface TrayState {
  pending: readonly ApprovalView[];
  activeSessions: number;
  /** Of those, the sessions whose server is asleep. */
  sleepingSessions?: number;
  recordingPaused: boolean;
  startAtLogin: boolean;
  /** A problem to show (an invalid config edit). */
  error?: string | undefined;
  /** Breaks the audit log holds (a start found it other than it was left): an alarm that opens Integrity. */
  auditBreaks?: number | undefined;
  /** Clients' sign-ins (MCP authorization) waiting for the user's consent: each opens its consent page. */
  consents?: readonly { id: string; clientName: string }[] | undefined;
  /** Who the gateway acts for, when sign-in is configured. */
  identity?: { principal: string; signedIn: boolean; configured: boolean } | undefined;
  /** The MCP clients found, with how many of their servers go through Gatehouse (the Clients submenu). */
  clients?: readonly { clientName: string; servers: number; through: number }[] | undefined;
  /** The forwarding to the organisation's collector, when configured: how far behind, and its warning. */
  forwarding?: { lagRecords: number; warning?: string | undefined } | undefined;
}

export interface TrayModel {
  icon: TrayIcon;
  tooltip: string;
  /** Shown beside the icon where the platform supports it (macOS): the pending count. */
  title: string;
  items: TrayItem[];
}

const ONE_HOUR = 3_600_000;

/** The native dialog for a client's sign-in (MCP authorization): its name and where the answer goes, Allow first. */
export function consentDialog(consent: { clientName: string; redirectUri: string; resource?: string }): { title: string; message: string; detail: string; buttons: string[]; defaultId: number; cancelId: number } {
  return {
    title: 'Gatehouse: a client wants to sign in',
    message: `${consent.clientName} wants to reach your MCP servers through Gatehouse`,
    detail: `If you allow it, it gets a token of its own${consent.resource ? ` for ${consent.resource}` : ''}; its calls are recorded under your identity and its registration. The answer goes to ${consent.redirectUri}. Did you not just connect a client? Deny.`,
    buttons: ['Allow', 'Deny'],
    defaultId: 0,
    cancelId: 1,
  };
}

/** What the tray shows for a state: plain data, built in the core and tested there; the desktop only renders it. */
export function buildTrayModel(state: TrayState): TrayModel {
  const count = state.pending.length;
  const alarm = state.auditBreaks ? `The audit log is not intact: ${state.auditBreaks} break${state.auditBreaks === 1 ? '' : 's'} recorded` : undefined;
  const icon: TrayIcon = alarm || state.error || state.forwarding?.warning ? 'error' : count > 0 ? 'pending' : state.recordingPaused ? 'paused' : state.activeSessions > 0 ? 'recording' : 'idle';
  const tooltip = [
    'Gatehouse',
    count > 0 ? `${count} call${count === 1 ? '' : 's'} waiting for approval` : undefined,
    state.consents?.length ? `${state.consents.length} sign-in${state.consents.length === 1 ? '' : 's'} waiting` : undefined,
    state.recordingPaused ? 'recording paused' : `${state.activeSessions} live session${state.activeSessions === 1 ? '' : 's'}${state.sleepingSessions ? ` (${state.sleepingSessions} asleep)` : ''}`,
    alarm,
    state.error,
    state.forwarding?.warning ? 'forwarding warns (see the menu)' : undefined,
  ]
    .filter(Boolean)
    .join(' — ');
  const items: TrayItem[] = [];
  if (alarm) items.push({ label: `${alarm}: what happened…`, action: { kind: 'open-view', path: '/integrity' } }, { separator: true, label: '' });
  if (state.consents?.length) {
    for (const c of state.consents) items.push({ label: `Sign-in waiting: “${c.clientName}” wants to reach your servers…`, action: { kind: 'open-view', path: `/consent/${c.id}` } });
    items.push({ separator: true, label: '' });
  }
  if (count > 0) {
    items.push({ label: `Waiting for approval (${count})`, enabled: false });
    for (const p of state.pending) {
      items.push({
        label: `${p.server} / ${p.tool} — ${p.client.name ?? 'unknown client'}`,
        submenu: [
          { label: argsSummary(p.args), enabled: false },
          { label: p.rule ? `Rule: ${p.rule}` : p.reason, enabled: false },
          { separator: true, label: '' },
          { label: 'Allow once', action: { kind: 'decide', id: p.id, decision: { action: 'allow' } } },
          { label: 'Allow for 1 hour', action: { kind: 'decide', id: p.id, decision: { action: 'allow', forMs: ONE_HOUR } } },
          { label: 'Deny', action: { kind: 'decide', id: p.id, decision: { action: 'deny', reason: 'denied from the tray' } } },
        ],
      });
    }
    items.push({ separator: true, label: '' });
  }
  if (state.error) items.push({ label: state.error, enabled: false }, { separator: true, label: '' });
  if (state.forwarding) {
    const f = state.forwarding;
    items.push({ label: f.warning ? `Forwarding: ${f.warning}` : f.lagRecords > 0 ? `Forwarding: ${f.lagRecords} record${f.lagRecords === 1 ? '' : 's'} to send` : 'Forwarding: up to date', enabled: false }, { separator: true, label: '' });
  }
  items.push(
    { label: 'Open timeline', action: { kind: 'open-timeline' } },
    ...(state.clients?.length ? [clientsMenu(state.clients)] : []),
    { label: state.recordingPaused ? 'Resume recording' : 'Pause recording', action: { kind: 'toggle-pause' } },
    { label: 'Start at login', checked: state.startAtLogin, action: { kind: 'toggle-start-at-login' } },
    ...(state.identity?.configured
      ? state.identity.signedIn
        ? [{ label: `Signed in as ${state.identity.principal}`, enabled: false }, { label: 'Sign out', action: { kind: 'sign-out' } as TrayAction }]
        : [{ label: 'Sign in…', action: { kind: 'sign-in' } as TrayAction }]
      : []),
    { separator: true, label: '' },
    { label: 'Quit Gatehouse', action: { kind: 'quit' } },
  );
  return { icon, tooltip, title: count > 0 ? String(count) : '', items };
}

/** Each client found, how many of its servers go through Gatehouse, and the way to the Clients view (which wires them). */
function clientsMenu(clients: NonNullable<TrayState['clients']>): TrayItem {
  const todo = clients.reduce((n, c) => n + c.servers - c.through, 0);
  return {
    label: todo > 0 ? `MCP clients (${todo} server${todo === 1 ? '' : 's'} not through Gatehouse)` : 'MCP clients',
    submenu: [
      ...clients.map((c) => ({ label: `${c.clientName}: ${c.through} of ${c.servers} through Gatehouse`, enabled: false })),
      { separator: true, label: '' },
      { label: todo > 0 ? 'Route them through Gatehouse…' : 'Open Clients…', action: { kind: 'open-clients' } as TrayAction },
    ],
  };
}

export function argsSummary(args: unknown, max = 80): string {
  const text = JSON.stringify(args) ?? '';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The native dialog for one pending call. */
export function approvalDialog(p: ApprovalView): { title: string; message: string; detail: string; buttons: string[]; defaultId: number; cancelId: number } {
  return {
    title: 'Gatehouse: approval needed',
    message: `${p.client.name ?? 'An MCP client'} wants to call ${p.tool} on ${p.server}`,
    detail: [`Arguments (masked): ${argsSummary(p.args, 400)}`, `Rule: ${p.rule ?? 'policy.default'} — ${p.reason}`, `Principal: ${p.principal}`, `Waits until ${new Date(p.expiresAt).toLocaleTimeString()}, then it is denied.`].join('\n'),
    buttons: ['Allow once', 'Allow for 1 hour', 'Deny'],
    defaultId: 2,
    cancelId: 2,
  };
}

/** Maps the button a person pressed to a decision; closing the dialog denies (fail closed). */
export function decisionFromDialog(button: number): ApprovalDecision {
  if (button === 0) return { action: 'allow' };
  if (button === 1) return { action: 'allow', forMs: ONE_HOUR };
  return { action: 'deny', reason: 'denied in the approval dialog' };
}

import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import type { ApprovalView } from '../../../main/api/types.js';
import { approvalDialog, buildTrayModel, decisionFromDialog } from '../../../main/approvals/tray-model.js';
import { menuTemplate } from '../../../main/desktop/tray.js';

const view = (id: string, tool = 'write_file'): ApprovalView => ({
  id,
  sessionId: 's',
  server: 'files',
  tool,
  args: { path: '/tmp/a' },
  principal: 'local:me',
  client: { name: 'claude-code', version: '2' },
  rule: 'writes-need-approval',
  reason: 'writes are reviewed',
  toolChanged: false,
  createdAt: 0,
  expiresAt: 60_000,
});

const base = { pending: [], activeSessions: 0, recordingPaused: false, startAtLogin: false };

describe('the tray, built from broker state', () => {
  it.each([
    [{ ...base }, 'idle'],
    [{ ...base, activeSessions: 2 }, 'recording'],
    [{ ...base, recordingPaused: true, activeSessions: 2 }, 'paused'],
    [{ ...base, pending: [view('a')], recordingPaused: true }, 'pending'],
    [{ ...base, pending: [view('a')], error: 'broken' }, 'error'],
  ])('%j → icon %s', (state, icon) => expect(buildTrayModel(state).icon).toBe(icon));

  it('forwarding: how many records wait for the collector, and its warning turns the icon to error', () => {
    expect(buildTrayModel(base).items.some((i) => i.label.startsWith('Forwarding'))).toBe(false);
    expect(buildTrayModel({ ...base, forwarding: { lagRecords: 0 } }).items.map((i) => i.label)).toContain('Forwarding: up to date');
    expect(buildTrayModel({ ...base, forwarding: { lagRecords: 1 } }).items.map((i) => i.label)).toContain('Forwarding: 1 record to send');
    const warned = buildTrayModel({ ...base, activeSessions: 1, forwarding: { lagRecords: 40, warning: 'the collector has not accepted records for 6 min' } });
    expect(warned.icon).toBe('error');
    expect(warned.items.map((i) => i.label)).toContain('Forwarding: the collector has not accepted records for 6 min');
    expect(warned.tooltip).toContain('forwarding warns');
  });

  it('a broken log: the icon turns to error, and the first item is an alarm that opens Integrity', () => {
    const model = buildTrayModel({ ...base, pending: [view('a')], auditBreaks: 2 });
    expect(model.icon).toBe('error');
    expect(model.tooltip).toContain('The audit log is not intact: 2 breaks recorded');
    expect(model.items[0]).toEqual({ label: 'The audit log is not intact: 2 breaks recorded: what happened…', action: { kind: 'open-view', path: '/integrity' } });
    expect(buildTrayModel({ ...base, auditBreaks: 0 }).items.some((i) => i.label.includes('not intact'))).toBe(false);
  });

  it("a client's sign-in waiting: an item that opens its consent page, and the tooltip says so", () => {
    const model = buildTrayModel({ ...base, consents: [{ id: 'abc123XYZ', clientName: 'Claude Code' }] });
    expect(model.items[0]).toEqual({ label: 'Sign-in waiting: “Claude Code” wants to reach your servers…', action: { kind: 'open-view', path: '/consent/abc123XYZ' } });
    expect(model.tooltip).toContain('1 sign-in waiting');
  });

  it('the tooltip counts live sessions and says how many of them sleep', () => {
    expect(buildTrayModel({ ...base, activeSessions: 12, sleepingSessions: 9 }).tooltip).toBe('Gatehouse — 12 live sessions (9 asleep)');
    expect(buildTrayModel({ ...base, activeSessions: 1 }).tooltip).toBe('Gatehouse — 1 live session');
  });

  it('a Clients submenu: each client with how many servers go through Gatehouse, and the way to wire the rest', () => {
    expect(buildTrayModel(base).items.some((i) => i.label.startsWith('MCP clients'))).toBe(false);
    const menu = buildTrayModel({ ...base, clients: [{ clientName: 'Claude Code', servers: 3, through: 1 }, { clientName: 'Cursor', servers: 1, through: 1 }] }).items.find((i) => i.label.startsWith('MCP clients'));
    expect(menu?.label).toBe('MCP clients (2 servers not through Gatehouse)');
    expect(menu?.submenu?.map((i) => i.label)).toEqual(['Claude Code: 1 of 3 through Gatehouse', 'Cursor: 1 of 1 through Gatehouse', '', 'Route them through Gatehouse…']);
    expect(menu?.submenu?.at(-1)?.action).toEqual({ kind: 'open-clients' });
    const done = buildTrayModel({ ...base, clients: [{ clientName: 'Cursor', servers: 1, through: 1 }] }).items.find((i) => i.label.startsWith('MCP clients'));
    expect(done?.label).toBe('MCP clients');
    expect(done?.submenu?.at(-1)?.label).toBe('Open Clients…');
  });

  it('sign-in items: none without identity, "Sign in…" when signed out, who and "Sign out" when signed in', () => {
    const labels = (identity?: { principal: string; signedIn: boolean; configured: boolean }) => buildTrayModel({ ...base, identity }).items.map((i) => i.label);
    expect(labels().some((l) => /sign/i.test(l))).toBe(false);
    expect(labels({ principal: 'local:me', signedIn: false, configured: true })).toContain('Sign in…');
    const signedIn = buildTrayModel({ ...base, identity: { principal: 'alice@example.com', signedIn: true, configured: true } }).items;
    expect(signedIn.find((i) => i.label === 'Signed in as alice@example.com')?.enabled).toBe(false);
    expect(signedIn.find((i) => i.label === 'Sign out')?.action).toEqual({ kind: 'sign-out' });
  });

  it('lists each waiting call with Allow / Allow for 1 hour / Deny, and the count', () => {
    const model = buildTrayModel({ ...base, pending: [view('a'), view('b', 'move_file')] });
    expect(model.title).toBe('2');
    expect(model.tooltip).toContain('2 calls waiting for approval');
    const calls = model.items.filter((i) => i.submenu);
    expect(calls.map((i) => i.label)).toEqual(['files / write_file — claude-code', 'files / move_file — claude-code']);
    expect(calls[0]?.submenu?.filter((i) => i.action).map((i) => [i.label, i.action])).toEqual([
      ['Allow once', { kind: 'decide', id: 'a', decision: { action: 'allow' } }],
      ['Allow for 1 hour', { kind: 'decide', id: 'a', decision: { action: 'allow', forMs: 3_600_000 } }],
      ['Deny', { kind: 'decide', id: 'a', decision: { action: 'deny', reason: 'denied from the tray' } }],
    ]);
    expect(model.items.map((i) => i.label)).toEqual(expect.arrayContaining(['Open timeline', 'Pause recording', 'Quit Gatehouse']));
  });

  it('the Electron menu runs the item\'s action when clicked', () => {
    const onAction = vi.fn();
    const template = menuTemplate(buildTrayModel({ ...base, pending: [view('a')] }).items, onAction);
    const call = template.find((t) => t.label === 'files / write_file — claude-code');
    const deny = (call?.submenu as MenuItemConstructorOptions[]).find((t) => t.label === 'Deny');
    (deny?.click as () => void)();
    expect(onAction).toHaveBeenCalledWith({ kind: 'decide', id: 'a', decision: { action: 'deny', reason: 'denied from the tray' } });
    expect(template.some((t) => t.type === 'separator')).toBe(true);
    expect(template.find((t) => t.label === 'Start at login')).toMatchObject({ type: 'checkbox', checked: false });
  });

  it('the dialog names client, server, tool, masked arguments and rule; its buttons map to decisions, closing denies', () => {
    const d = approvalDialog(view('a'));
    expect(d.message).toBe('claude-code wants to call write_file on files');
    expect(d.detail).toContain('Arguments (masked): {"path":"/tmp/a"}');
    expect(d.detail).toContain('Rule: writes-need-approval — writes are reviewed');
    expect(d.buttons).toEqual(['Allow once', 'Allow for 1 hour', 'Deny']);
    expect([0, 1, 2, 7].map(decisionFromDialog)).toEqual([
      { action: 'allow' },
      { action: 'allow', forMs: 3_600_000 },
      { action: 'deny', reason: 'denied in the approval dialog' },
      { action: 'deny', reason: 'denied in the approval dialog' },
    ]);
    expect(d.cancelId).toBe(2);
  });
});

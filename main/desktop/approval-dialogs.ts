import type { MessageBoxOptions, MessageBoxReturnValue, NotificationConstructorOptions } from 'electron';
import type { ApprovalDecision, ApprovalView } from '../api/types.js';
import type { DeciderPort } from '../approvals/decider-port.js';
import { approvalDialog, consentDialog, decisionFromDialog } from '../approvals/tray-model.js';

export interface DialogElectron {
  dialog: { showMessageBox(options: MessageBoxOptions): Promise<MessageBoxReturnValue> };
  Notification: (new (options: NotificationConstructorOptions) => { show(): void; on(event: 'click', fn: () => void): void }) & { isSupported(): boolean };
}

export interface ApprovalDialogs {
  /** A call is waiting: ask in a native dialog, and notify if the app is not in front. */
  pending(view: ApprovalView): void;
  /** Decided elsewhere (or timed out): close its dialog. */
  resolved(id: string): void;
}

/** One native dialog per pending call; its answer is one more approver port ("dialog"). */
export function setupApprovalDialogs(
  electron: DialogElectron,
  options: { decide: (id: string, decision: ApprovalDecision, port: DeciderPort) => Promise<unknown>; appFocused: () => boolean; show: () => void },
): ApprovalDialogs {
  const open = new Map<string, AbortController>();
  return {
    pending(view) {
      const abort = new AbortController();
      open.set(view.id, abort);
      if (!options.appFocused() && electron.Notification.isSupported()) {
        const note = new electron.Notification({ title: 'Gatehouse: approval needed', body: `${view.client.name ?? 'A client'} wants ${view.tool} on ${view.server}` });
        note.on('click', options.show);
        note.show();
      }
      void electron.dialog.showMessageBox({ ...approvalDialog(view), type: 'question', noLink: true, signal: abort.signal }).then(
        ({ response }) => {
          if (abort.signal.aborted) return; // someone decided first
          open.delete(view.id);
          return options.decide(view.id, decisionFromDialog(response), 'dialog');
        },
        () => undefined,
      );
    },
    resolved(id) {
      open.get(id)?.abort();
      open.delete(id);
    },
  };
}

/** One native dialog per client sign-in waiting for consent; answered in the browser first, it closes. */
export function setupConsentDialogs(
  electron: DialogElectron,
  options: { decide: (id: string, allow: boolean) => Promise<unknown> },
): { pending(consent: { id: string; clientName: string; redirectUri: string; resource?: string }): void; resolved(id: string): void } {
  const open = new Map<string, AbortController>();
  return {
    pending(consent) {
      const abort = new AbortController();
      open.set(consent.id, abort);
      void electron.dialog.showMessageBox({ ...consentDialog(consent), type: 'question', noLink: true, signal: abort.signal }).then(
        ({ response }) => {
          if (abort.signal.aborted) return;
          open.delete(consent.id);
          return options.decide(consent.id, response === 0);
        },
        () => undefined,
      );
    },
    resolved(id) {
      open.get(id)?.abort();
      open.delete(id);
    },
  };
}

/**
 * The view in the address bar's hash: #/, #/session/ID, #/session/ID/call/N, #/session/ID/record/SEQ (the call
 * that holds record SEQ, or the record itself), #/approvals, #/policy, #/integrity, #/clients. A session's may end in `?find=TERM`: what the sessions search looked for, found and marked in it.
 */
export type Route = { view: 'timeline' } | { view: 'session'; id: string; call?: number; record?: number; find?: string } | { view: 'approvals' } | { view: 'policy' } | { view: 'integrity' } | { view: 'clients' } | { view: 'consent'; id: string };

function parse(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?');
  const [, view, id, part, n] = path.split('/');
  // `#/session/ID/call/N`: a session's Nth call, opened.
  if (view === 'session' && id) {
    const find = new URLSearchParams(query).get('find') ?? '';
    const number = /^\d+$/.test(n ?? '') ? Number(n) : undefined;
    return { view: 'session', id: decodeURIComponent(id), ...(part === 'call' && number !== undefined ? { call: number } : {}), ...(part === 'record' && number !== undefined ? { record: number } : {}), ...(find ? { find } : {}) };
  }
  // `#/consent/ID`: a client's sign-in (MCP authorization) waiting for the user's answer.
  if (view === 'consent' && id) return { view: 'consent', id: decodeURIComponent(id) };
  if (view === 'approvals' || view === 'policy' || view === 'integrity' || view === 'clients') return { view };
  return { view: 'timeline' };
}

export class Router {
  route = $state<Route>(parse(location.hash));

  constructor() {
    window.addEventListener('hashchange', () => (this.route = parse(location.hash)));
  }

  go(hash: string): void {
    location.hash = hash;
  }
}

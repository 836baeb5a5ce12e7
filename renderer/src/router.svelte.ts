/** The view in the address bar's hash: #/, #/session/ID, #/session/ID/call/N, #/approvals, #/policy, #/integrity, #/clients. */
export type Route = { view: 'timeline' } | { view: 'session'; id: string; call?: number } | { view: 'approvals' } | { view: 'policy' } | { view: 'integrity' } | { view: 'clients' };

function parse(hash: string): Route {
  const [, view, id, part, n] = hash.replace(/^#/, '').split('/');
  // `#/session/ID/call/N`: a session's Nth call, opened.
  if (view === 'session' && id) return { view: 'session', id: decodeURIComponent(id), ...(part === 'call' && /^\d+$/.test(n ?? '') ? { call: Number(n) } : {}) };
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

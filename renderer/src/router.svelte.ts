/** The view in the address bar's hash: #/, #/session/ID, #/approvals, #/policy, #/integrity, #/clients. */
export type Route = { view: 'timeline' } | { view: 'session'; id: string } | { view: 'approvals' } | { view: 'policy' } | { view: 'integrity' } | { view: 'clients' };

function parse(hash: string): Route {
  const [, view, id] = hash.replace(/^#/, '').split('/');
  if (view === 'session' && id) return { view: 'session', id: decodeURIComponent(id) };
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

import { API_METHODS, type ApiMethod, type GatehouseApi } from '../../main/api/types';

declare global {
  interface Window {
    /** Present in the Electron window (preload); absent in the browser. */
    gatehouse?: GatehouseApi;
  }
}

const HTTP_ROUTES: Record<ApiMethod, string> = {
  status: '/api/status',
  servers: '/api/servers',
  liveSessions: '/api/sessions/live',
};

async function get<T>(path: string): Promise<T> {
  const res = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

function httpApi(): GatehouseApi {
  return Object.fromEntries(API_METHODS.map((m) => [m, () => get(HTTP_ROUTES[m])])) as unknown as GatehouseApi;
}

/** The one GatehouseApi the UI uses: IPC in the desktop app, HTTP in the browser. */
export const api: GatehouseApi = window.gatehouse ?? httpApi();

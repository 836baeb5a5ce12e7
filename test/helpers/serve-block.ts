import { afterAll, beforeAll } from 'vitest';
import { startServe } from './cli.js';
import { tempHome } from './temp-home.js';

export type Served = Awaited<ReturnType<typeof startServe>>;

/** `gatehouse serve` on a temp data directory for one describe block: started before its tests, stopped (and the directory removed) after. */
export function serveBlock(config: Record<string, unknown>): { readonly home: { dir: string }; readonly serve: Served } {
  const home = tempHome(config);
  let serve: Served | undefined;
  beforeAll(async () => {
    serve = await startServe(['--port', '0'], { GATEHOUSE_HOME: home.dir });
  });
  afterAll(async () => {
    const child = serve?.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    home.remove();
  });
  return {
    home,
    get serve() {
      return serve as Served;
    },
  };
}

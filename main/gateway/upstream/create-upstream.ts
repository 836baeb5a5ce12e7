import { isStdioServer, type ServerConfig } from '../../config/schema.js';
import { HttpUpstream } from './http-upstream.js';
import { StdioUpstream } from './stdio-upstream.js';
import type { Upstream, UpstreamHooks } from './upstream.js';

/** The connector a server's config calls for: a child process for `command`, HTTP for `url`. */
export function createUpstream(name: string, config: ServerConfig, hooks: UpstreamHooks = {}): Upstream {
  return isStdioServer(config) ? new StdioUpstream(name, config, hooks) : new HttpUpstream(name, config, hooks);
}

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** The entry script of an npm-installed MCP server (devDependencies), to run with this Node. */
export function serverScript(pkg: '@modelcontextprotocol/server-everything' | '@modelcontextprotocol/server-filesystem' | '@modelcontextprotocol/server-memory'): string {
  return join(dirname(require.resolve(`${pkg}/package.json`)), 'dist', 'index.js');
}

export const everythingStdio = () => ({ command: process.execPath, args: [serverScript('@modelcontextprotocol/server-everything'), 'stdio'] });
export const filesystemStdio = (root: string) => ({ command: process.execPath, args: [serverScript('@modelcontextprotocol/server-filesystem'), root] });

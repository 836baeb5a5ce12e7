import { join } from 'node:path';
import type { ClientId } from './wiring-types.js';

export type { ClientId };

/** One file where a client keeps MCP servers, and where in it they stand. */
export interface ConfigLocation {
  client: ClientId;
  /** `user` (the person's own settings) or `project` (a file in the project folder). */
  scope: 'user' | 'project';
  file: string;
  /** The path of the object holding the servers, by name (`["mcpServers"]`, `["servers"]`, `["projects", "/repo", "mcpServers"]`). */
  path: (string | number)[];
  /** The folder the file is reached from (the home or app-data folder, or the project): no symbolic link may stand between the two. */
  root: string;
}

export const CLIENT_NAMES: Record<ClientId, string> = {
  'claude-desktop': 'Claude Desktop',
  'claude-code': 'Claude Code',
  cursor: 'Cursor',
  vscode: 'VS Code',
  windsurf: 'Windsurf',
  gemini: 'Gemini CLI',
};

export interface Platform {
  /** `process.platform`. */
  os: NodeJS.Platform;
  home: string;
  /** %APPDATA% on Windows. */
  appData?: string | undefined;
  /** The project folder a client would read project-scoped files from (the current directory). */
  cwd: string;
}

/**
 * Where each client keeps its MCP servers, on Linux, macOS and Windows: the user-scoped files, and the
 * project-scoped ones in `cwd`. Claude Code's project-local servers (under `projects.<cwd>` in ~/.claude.json)
 * are one more location. Pure: the caller reads the files.
 */
export function configLocations(p: Platform): ConfigLocation[] {
  const appSupport = p.os === 'darwin' ? join(p.home, 'Library', 'Application Support') : p.os === 'win32' ? (p.appData ?? join(p.home, 'AppData', 'Roaming')) : join(p.home, '.config');
  const user = (client: ClientId, file: string, path: (string | number)[]): ConfigLocation => ({ client, scope: 'user', file, path, root: file.startsWith(p.home) ? p.home : appSupport });
  const project = (client: ClientId, file: string, path: (string | number)[]): ConfigLocation => ({ client, scope: 'project', file: join(p.cwd, file), path, root: p.cwd });
  return [
    user('claude-desktop', join(appSupport, 'Claude', 'claude_desktop_config.json'), ['mcpServers']),
    user('claude-code', join(p.home, '.claude.json'), ['mcpServers']),
    user('claude-code', join(p.home, '.claude.json'), ['projects', p.cwd, 'mcpServers']),
    project('claude-code', '.mcp.json', ['mcpServers']),
    user('cursor', join(p.home, '.cursor', 'mcp.json'), ['mcpServers']),
    project('cursor', join('.cursor', 'mcp.json'), ['mcpServers']),
    user('vscode', join(appSupport, 'Code', 'User', 'mcp.json'), ['servers']),
    user('vscode', join(appSupport, 'Code', 'User', 'settings.json'), ['mcp', 'servers']),
    project('vscode', join('.vscode', 'mcp.json'), ['servers']),
    user('windsurf', join(p.home, '.codeium', 'windsurf', 'mcp_config.json'), ['mcpServers']),
    user('gemini', join(p.home, '.gemini', 'settings.json'), ['mcpServers']),
    project('gemini', join('.gemini', 'settings.json'), ['mcpServers']),
  ];
}

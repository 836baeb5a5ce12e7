#!/usr/bin/env node
// The `gatehouse` command: runs the built CLI (out/main/cli.js) on plain Node.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../out/main/cli.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(`gatehouse: not built yet; run \`npm run build\` in ${fileURLToPath(new URL('..', import.meta.url))}\n`);
  process.exit(2);
}
await import(entry.href);

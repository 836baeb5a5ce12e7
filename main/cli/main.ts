import { runCli } from './index.js';

// The `gatehouse` executable. Long-running commands (serve, connect) keep the process alive themselves.
const code = await runCli(process.argv.slice(2));
if (code !== 0) process.exitCode = code;

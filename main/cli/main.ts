import { runCli } from './index.js';

// `gatehouse export | head`: a reader that stops early is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

// The `gatehouse` executable. Long-running commands (serve, connect) keep the process alive themselves.
const code = await runCli(process.argv.slice(2));
if (code !== 0) process.exitCode = code;

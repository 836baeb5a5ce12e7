const args = process.argv.slice(2);

// `gatehouse export | head`: a reader that stops early is not an error. (The shim handles its own stdout: a
// client gone still has its session ended at the gateway.)
if (args[0] !== 'connect') {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

// The `gatehouse` executable. Long-running commands (serve, connect) keep the process alive themselves.
// `gatehouse connect` runs once per client session for as long as it lasts: it loads only the bridge (about
// half the memory of the whole CLI, and a faster start).
const code = args[0] === 'connect' ? await (await import('./connect-main.js')).runConnect(args.slice(1)) : await (await import('./index.js')).runCli(args);
if (code !== 0) process.exitCode = code;

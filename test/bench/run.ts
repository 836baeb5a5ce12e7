// `npm run bench`: figures for the README and the issue notes. Not tests: nothing here asserts a timing.
import { cpus } from 'node:os';
import { benchProxyLatency } from './proxy-latency.js';

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;
console.log(`Gatehouse benchmarks — ${new Date().toISOString()} — ${machine}\n`);
console.log(await benchProxyLatency());

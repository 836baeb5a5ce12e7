// `npm run bench`: figures for the README and the issue notes. Not tests: nothing here asserts a timing.
// `npm run bench -- NAME` runs one part (side, audit, policy, timeline, forwarding, clients).
import { cpus } from 'node:os';
import { benchAuditLog } from './audit-log.js';
import { benchClients } from './clients.js';
import { benchForwarding } from './forwarding.js';
import { benchPolicyMasking } from './policy-masking.js';
import { benchSideBySide } from './side-by-side.js';
import { benchTimeline } from './timeline.js';

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;
const only = process.argv[2];
console.log(`Gatehouse benchmarks — ${new Date().toISOString()} — ${machine}\n`);
if (!only || only === 'side') console.log(await benchSideBySide(), '\n');
if (!only || only === 'audit') console.log(await benchAuditLog(), '\n');
if (!only || only === 'policy') console.log(benchPolicyMasking(), '\n');
if (!only || only === 'timeline') console.log(await benchTimeline(), '\n');
if (!only || only === 'forwarding') console.log(await benchForwarding(), '\n');
if (!only || only === 'clients') console.log(benchClients(), '\n');

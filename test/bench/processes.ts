// What a process costs, read from Linux's /proc: resident memory, its peak (which can be reset, so that one
// scenario's peak is its own), CPU time, and the processes it started.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';

const MB = 1024 * 1024;

function status(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? (Number(m[1]) * 1024) / MB : 0;
  } catch {
    return 0;
  }
}

/** Resident memory now, MB. */
export const rssMb = (pid: number): number => status(pid, 'VmRSS');

/** Peak resident memory since start or since the last resetPeak, MB. */
export const peakMb = (pid: number): number => status(pid, 'VmHWM');

/** Resets the process's peak resident memory to what it holds now (Linux ≥ 4.0; needs to own the process). */
export function resetPeak(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // not ours to reset: the peak is then since start, an overestimate
  }
}

/** CPU time (user + system) the process has used, ms. */
export function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

/** The process and everything it started, transitively (nothing if it has exited). */
export function processTree(root: number): number[] {
  if (!existsSync(`/proc/${root}`)) return [];
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (pid: number): void => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return out;
}

/** Total resident memory of processes, MB. */
export const totalRssMb = (pids: readonly number[]): number => pids.reduce((sum, pid) => sum + rssMb(pid), 0);

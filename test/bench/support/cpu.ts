// CPU the benchmarks account for: of the function instances (child processes of the bench, each
// named by its FC_FUNCTION_NAME), and of the whole machine, from /proc (Linux; empty or 0
// elsewhere). The local system shares the machine's cores, so a wall time is read next to them.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

// CPU of the function instances (child processes of this one), per function, from /proc (Linux;
// empty elsewhere).

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export function instanceCpuMs(): Map<string, number> {
  const out = new Map<string, number>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command (which may hold spaces): state ppid ... utime(14) stime(15).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== process.pid) continue;
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      const fn = env.find((e) => e.startsWith('FC_FUNCTION_NAME='))?.slice(17);
      if (!fn) continue;
      const ticks = Number(fields[11]) + Number(fields[12]);
      out.set(fn, (out.get(fn) ?? 0) + (ticks * 1000) / CLOCK_TICKS);
    } catch {
      // The process ended meanwhile.
    }
  }
  return out;
}

/** CPU time the whole machine has spent busy (all processes), ms; 0 where /proc is missing. */
export function machineBusyMs(): number {
  try {
    const first = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const v = first.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return ((total - idle) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

export function cpuSince(before: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [fn, v] of instanceCpuMs()) out.set(fn, v - (before.get(fn) ?? 0));
  return out;
}

// CPU time read from Linux's /proc, for the benches: a process, its threads, and the PostgreSQL server's
// processes. Off Linux every reader answers NaN or undefined.
import { readdirSync, readFileSync } from 'node:fs';

/** User + system CPU µs in a /proc …/stat text (fields 14 and 15, in clock ticks of 1/100 s). */
function statCpuUs(stat) {
  const fields = stat.split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * (1e6 / 100);
}

/** CPU time (user + system, every thread) a process has used, in µs, or NaN. */
export function processCpuUs(pid) {
  try {
    return statCpuUs(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return Number.NaN;
  }
}

/** CPU time of one thread of a process (its main thread by default), in µs, or NaN. */
export function threadCpuUs(pid, tid = pid) {
  try {
    return statCpuUs(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU µs by thread name (main thread: 'main'; others by their name, or name-tid when `byTid`), summed
 * over threads of one name.
 */
export function cpuUsByThread(pid, { byTid = false } = {}) {
  const byName = {};
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const name = tid === String(pid) ? 'main' : byTid ? `${comm}-${tid}` : comm;
      byName[name] = (byName[name] ?? 0) + threadCpuUs(pid, tid);
    }
  } catch {
    // Not Linux, or a thread ended while being read.
  }
  return byName;
}

/**
 * CPU µs of every `postgres` process on this machine, by pid (the database server's share of the cores),
 * or undefined off Linux. Other clients of the server count too.
 */
export function postgresCpuByPid() {
  try {
    const used = new Map();
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let stat;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        continue; // gone meanwhile
      }
      if (stat.includes(' (postgres) ')) used.set(pid, statCpuUs(stat));
    }
    return used;
  } catch {
    return undefined;
  }
}

/** µs of CPU the postgres processes used between two readings (a process that ended meanwhile is lost). */
export function postgresCpuUsBetween(before, after) {
  if (before === undefined || after === undefined) return undefined;
  let used = 0;
  for (const [pid, us] of after) used += us - (before.get(pid) ?? 0);
  return used;
}

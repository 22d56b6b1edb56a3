import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** Pids whose command line contains `fragment` (from ps, so it sees processes we did not fork). */
export function pidsMatching(fragment: string): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => line.includes(fragment) && !line.includes('ps -eo'))
    .map((line) => Number(line.trim().split(/\s+/)[0]))
    .filter((pid) => pid !== process.pid && Number.isFinite(pid));
}

/** User + system CPU seconds per process, from /proc/<pid>/stat (clock ticks of 1/100 s). */
export function cpuSeconds(pids: number[]): Map<number, number> {
  const seconds = new Map<number, number>();
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      seconds.set(pid, (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // exited
    }
  }
  return seconds;
}

/**
 * CPU seconds spent between two snapshots. A Postgres backend that exits in between takes its
 * count with it, so only processes seen at the end count (from zero if they started in between).
 */
export function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

export function alive(pids: number[]): number[] {
  return pids.filter((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
}

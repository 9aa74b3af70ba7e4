import { readFileSync } from 'node:fs';

/**
 * True when a process with this PID runs (signal 0 probes without touching it). An exited
 * process nobody reaped — a zombie, as orphans become where PID 1 does not reap (containers
 * without an init) — does not run: it must not keep a local instance listed.
 */
export function isProcessAlive(pid: number | null | undefined): boolean {
  if (pid === null || pid === undefined) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state === 'Z' || state === 'X';
  } catch {
    // No /proc (not Linux) or already gone: signal 0 has answered.
    return false;
  }
}

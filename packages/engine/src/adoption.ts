import { readFileSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '@synkti/interface';
import { killGroup } from './child.js';
import type { EngineExit, EngineProcess } from './runtime.js';

/** The record of the engine process this agent started, kept in its state directory. */
export const ENGINE_RECORD_FILE = 'engine-process.json';
/** Where a process engine's output goes when it may outlive its agent (a pipe would break). */
export const ENGINE_LOG_FILE = 'engine.log';
/** How often an adopted engine (not our child: no exit event) is checked for life. */
const ADOPTED_POLL_MS = 500;
/** Readiness checks of a predecessor's engine before it is replaced: it may be busy, never loading. */
const ADOPT_PROBES = 3;
const ADOPT_PROBE_INTERVAL_MS = 500;

/** True when a predecessor's engine answers ready within a few probes. */
export async function readyToAdopt(ready: (signal: AbortSignal) => Promise<boolean>, clock: Clock, signal: AbortSignal): Promise<boolean> {
  for (let i = 0; i < ADOPT_PROBES; i++) {
    if (await ready(signal).catch(() => false)) return true;
    await new Promise<void>((resolve) => clock.setTimeout(resolve, ADOPT_PROBE_INTERVAL_MS));
  }
  return false;
}

export interface EngineRecord {
  pid: number;
  /** The process's start time in clock ticks since boot (/proc/<pid>/stat field 22): tells a reused PID apart. */
  startTicks: number;
  argv: string[];
  cwd: string | null;
  startedAt: string;
}

/**
 * Start time of `pid` in ticks since boot, or null when the process does not exist, has exited
 * and waits to be reaped (a zombie: where PID 1 does not reap, an orphan stays one), or no /proc.
 */
export function processStartTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return null;
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : null;
  } catch {
    return null;
  }
}

export async function readEngineRecord(stateDir: string): Promise<EngineRecord | null> {
  try {
    const value = JSON.parse(await readFile(join(stateDir, ENGINE_RECORD_FILE), 'utf8')) as EngineRecord;
    return Number.isInteger(value.pid) && Array.isArray(value.argv) ? value : null;
  } catch {
    return null;
  }
}

export async function writeEngineRecord(stateDir: string, record: EngineRecord): Promise<void> {
  const path = join(stateDir, ENGINE_RECORD_FILE);
  await writeFile(`${path}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}

export async function removeEngineRecord(stateDir: string): Promise<void> {
  await rm(join(stateDir, ENGINE_RECORD_FILE), { force: true });
}

/** True while the recorded process still runs (same PID and the same start time). */
export function recordAlive(record: EngineRecord): boolean {
  return processStartTicks(record.pid) === record.startTicks;
}


/**
 * An engine process group this agent did not spawn (its predecessor did): it has no exit event,
 * so its life is polled; stopping signals its group like a child's (SIGTERM, SIGKILL after the grace).
 */
export function adoptedProcess(record: EngineRecord, clock: Clock): EngineProcess {
  let resolveExit: (exit: EngineExit) => void = () => {};
  const exited = new Promise<EngineExit>((resolve) => {
    resolveExit = resolve;
  });
  let done = false;
  const poll = () => {
    if (done) return;
    if (!recordAlive(record)) {
      done = true;
      // Not our child: its status is not ours to read.
      resolveExit({ code: null, signal: null });
      return;
    }
    clock.setTimeout(poll, ADOPTED_POLL_MS);
  };
  poll();
  let stopping: Promise<EngineExit> | null = null;
  const stop = (graceMs: number): Promise<EngineExit> => {
    if (done) return exited;
    stopping ??= (async () => {
      killGroup(record.pid, 'SIGTERM');
      const timer = clock.setTimeout(() => killGroup(record.pid, 'SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clock.clearTimeout(timer);
      }
    })();
    return stopping;
  };
  return { pid: record.pid, exited, stop };
}

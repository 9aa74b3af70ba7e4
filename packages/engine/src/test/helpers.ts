import { processStartTicks } from '../adoption.js';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { EngineRuntime } from '../runtime.js';
import type { EngineSupervisor } from '../supervisor.js';
import type { Transition } from '../machine.js';

const repoRoot = new URL('../../../../', import.meta.url).pathname;
const fakeCli = `${repoRoot}packages/fake-vllm/dist/cli.js`;
const standIn = new URL('./stand-in-engine.js', import.meta.url).pathname;

/** The fake vLLM CLI when built; otherwise this package's minimal stand-in (same flags). */
export const FAKE_ENGINE = existsSync(fakeCli) ? fakeCli : standIn;
export const MODEL = 'test/fake-model';

/**
 * A port that was free a moment ago, below the kernel's ephemeral range: a port the OS hands
 * out (listen on 0) lies inside it, where an outbound connection of a busy machine may take it
 * before the engine binds it (a CI run once waited 20 s for an engine that could not start).
 */
export async function freePort(): Promise<number> {
  const low = Number(/^(\d+)/.exec(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim())?.[1] ?? 32_768);
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * (Math.max(low, 10_001) - 10_000));
    if (await isFree(port)) return port;
  }
  throw new Error('no free port found below the ephemeral range in 100 tries');
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** argv of the fake engine on `port`, loading for `loadMs`. */
export function fakeEngineArgv(port: number, extra: string[] = [], loadMs = 150): string[] {
  return [
    process.execPath,
    FAKE_ENGINE,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--model',
    MODEL,
    '--load-ms',
    String(loadMs),
    ...extra,
  ];
}

/** Fast probe and restart settings for tests: behaviour is the same, only the numbers shrink. */
export const FAST = {
  readinessIntervalMs: 25,
  healthIntervalMs: 50,
  probeTimeoutMs: 400,
  stopGraceMs: 1_000,
  restart: { initialBackoffMs: 50, maxBackoffMs: 400, jitterRatio: 0.2, crashLoopWindowMs: 60_000, stableAfterMs: 60_000 },
} as const;

/** Records every transition of a supervisor and waits for one that matches, with a bound. */
export function watch(sup: EngineSupervisor) {
  const seen: Transition[] = [];
  const waiters: Array<{ match: (t: Transition) => boolean; resolve: (t: Transition) => void }> = [];
  sup.onTransition((t) => {
    seen.push(t);
    for (const w of [...waiters]) {
      if (w.match(t)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(t);
      }
    }
  });
  /** Resolves with the first transition after the `from`th seen one (default: any, past or future) that matches. */
  const next = (match: (t: Transition) => boolean, timeoutMs = 20_000, from = 0): Promise<Transition> => {
    const earlier = seen.slice(from).find(match);
    if (earlier) return Promise.resolve(earlier);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching transition within ${timeoutMs} ms; seen ${JSON.stringify(seen.map((t) => `${t.from}->${t.to}`))}`)), timeoutMs);
      waiters.push({ match, resolve: (t) => { clearTimeout(timer); resolve(t); } });
    });
  };
  const to = (state: string, timeoutMs?: number, from?: number) => next((t) => t.to === state, timeoutMs, from);
  return { seen, next, to };
}

/** Wraps a runtime to remember every PID it started, so `after` hooks can kill leftovers. */
export function tracked(runtime: EngineRuntime, pids: number[]): EngineRuntime {
  return {
    kind: runtime.kind,
    prepare: (signal) => runtime.prepare(signal),
    launch: async (signal) => {
      const p = await runtime.launch(signal);
      if (p.pid !== undefined) pids.push(p.pid);
      return p;
    },
  };
}

/** Kills the process groups of the given leaders (or the process, for one that leads none); gone already is fine. */
export function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // not a group leader, or already gone
      }
    }
  }
}

/** Whether a process exists. */
/** True while `pid` runs (an exited orphan waiting to be reaped — a zombie — does not count). */
export function alive(pid: number): boolean {
  return processStartTicks(pid) !== null;
}

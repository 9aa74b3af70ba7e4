import type { Rng } from '@synkti/interface';
import type { EngineStateName } from '@synkti/protocol';
import { type BackoffOptions, backoffDelayMs } from './backoff.js';
import { ENGINE_ERROR_CODES } from './errors.js';

/**
 * The engine's cold-start and lifecycle state machine. Pure: no clock, no timers, no I/O;
 * time comes in as `now`, randomness from the injected Rng, and what to do comes out as
 * decisions that the supervisor (the shell) executes.
 *
 *   stopped → pulling → starting → loading → warm → draining → stopped
 *   any active state → failed → (backoff) → pulling …
 */

export interface MachineOptions {
  /** From entering `starting` until warm; connection refused meanwhile means loading. */
  startupBudgetMs: number;
  /** Consecutive failed health probes (timeouts included) that fail a warm engine. */
  unhealthyThreshold: number;
  /** No progress this long while the engine has work fails it as hung; 0 never judges. */
  stallTimeoutMs: number;
  backoff: BackoffOptions;
  crashLoopFailures: number;
  crashLoopWindowMs: number;
  /** Warm this long and the failure history is forgiven. */
  stableAfterMs: number;
  stopGraceMs: number;
  maxFailureHistory: number;
}

export interface ColdStartPhases {
  /** `docker pull` (or the runtime's preparation); 0 when there is nothing to pull. */
  pullMs: number;
  /** From launch until the process or container runs. */
  startMs: number;
  /** From running until warm: weights loading, readiness probes, optional warm-up. */
  loadMs: number;
}

export interface Failure {
  code: string;
  reason: string;
  at: number;
}

export interface MachineState {
  readonly name: EngineStateName;
  readonly since: number;
  readonly want: 'running' | 'stopped';
  /** Bumped on every cold start; async results tagged with an older attempt are ignored. */
  readonly attempt: number;
  readonly healthFailures: number;
  /** Failures since the engine was last stably warm: the backoff exponent. */
  readonly consecutiveFailures: number;
  readonly failureTimes: readonly number[];
  readonly crashLoop: boolean;
  readonly restartAt: number | null;
  readonly lastFailure: Failure | null;
  readonly phases: { pullMs: number | null; startMs: number | null };
  readonly lastColdStart: ColdStartPhases | null;
  /** The engine's progress counter as last seen, and since when it has had that value with work to do. */
  readonly progress: { readonly value: number | null; readonly since: number };
}

/** Results of async work carry the attempt they belong to. */
type Tagged = { attempt?: number };

export type EngineEvent =
  | { kind: 'start' }
  | ({ kind: 'pulled' } & Tagged)
  | ({ kind: 'launched' } & Tagged)
  | ({ kind: 'ready' } & Tagged)
  | ({ kind: 'health'; ok: boolean; timedOut?: boolean; reason?: string } & Tagged)
  /** A /metrics sample: the progress counter (null when unknown) and whether requests run or wait. */
  | ({ kind: 'progress'; value: number | null; busy: boolean } & Tagged)
  | ({ kind: 'fail'; code: string; reason: string } & Tagged)
  | ({ kind: 'exited'; code: number | null; signal: string | null } & Tagged)
  | { kind: 'tick' }
  | { kind: 'restart' }
  | { kind: 'drain'; deadlineAt: number }
  | { kind: 'drained' }
  | { kind: 'stop' };

export type Decision =
  | { kind: 'pull'; attempt: number }
  | { kind: 'launch'; attempt: number }
  | { kind: 'abort-start' }
  | { kind: 'await-drain'; deadlineAt: number }
  | { kind: 'stop-runtime'; graceMs: number }
  | { kind: 'schedule-restart'; at: number; delayMs: number }
  | { kind: 'cancel-restart' };

export interface Transition {
  from: EngineStateName;
  to: EngineStateName;
  at: number;
  /** Time spent in `from`. */
  inStateMs: number;
  reason: string;
  /** The error code, for transitions into `failed`. */
  code?: string;
}

export interface StepResult {
  state: MachineState;
  decisions: Decision[];
  transition: Transition | null;
}

export interface EngineMachine {
  initial(now: number): MachineState;
  step(state: MachineState, event: EngineEvent, now: number): StepResult;
}

const ACTIVE: ReadonlySet<EngineStateName> = new Set(['pulling', 'starting', 'loading', 'warm']);
/** States in which a process or container may exist. */
const RUNTIME_MAY_LIVE: ReadonlySet<EngineStateName> = new Set(['starting', 'loading', 'warm', 'draining']);

export function engineMachine(options: MachineOptions, rng: Rng): EngineMachine {
  const unchanged = (state: MachineState): StepResult => ({ state, decisions: [], transition: null });

  const move = (
    s: MachineState,
    to: EngineStateName,
    now: number,
    reason: string,
    patch: Partial<MachineState> = {},
    decisions: Decision[] = [],
    code?: string,
  ): StepResult => {
    const transition: Transition = { from: s.name, to, at: now, inStateMs: Math.max(0, now - s.since), reason };
    if (code !== undefined) transition.code = code;
    return { state: { ...s, ...patch, name: to, since: now }, decisions, transition };
  };

  const coldStart = (s: MachineState, now: number, reason: string): StepResult => {
    const attempt = s.attempt + 1;
    return move(
      s,
      'pulling',
      now,
      reason,
      { want: 'running', attempt, restartAt: null, healthFailures: 0, phases: { pullMs: null, startMs: null } },
      [{ kind: 'pull', attempt }],
    );
  };

  const fail = (s: MachineState, now: number, code: string, reason: string): StepResult => {
    const recent = [...s.failureTimes.filter((t) => now - t < options.crashLoopWindowMs), now].slice(
      -options.maxFailureHistory,
    );
    const consecutiveFailures = s.consecutiveFailures + 1;
    const crashLoop = s.crashLoop || recent.length >= options.crashLoopFailures;
    const delayMs = backoffDelayMs(consecutiveFailures, crashLoop, options.backoff, rng());
    const decisions: Decision[] = [];
    if (s.name === 'pulling' || s.name === 'starting') decisions.push({ kind: 'abort-start' });
    if (RUNTIME_MAY_LIVE.has(s.name)) decisions.push({ kind: 'stop-runtime', graceMs: options.stopGraceMs });
    decisions.push({ kind: 'schedule-restart', at: now + delayMs, delayMs });
    const patch: Partial<MachineState> = {
      failureTimes: recent,
      consecutiveFailures,
      crashLoop,
      restartAt: now + delayMs,
      healthFailures: 0,
      lastFailure: { code, reason, at: now },
    };
    return move(s, 'failed', now, reason, patch, decisions, code);
  };

  const stopNow = (s: MachineState, now: number, reason: string): StepResult => {
    if (s.name === 'stopped') return { state: { ...s, want: 'stopped' }, decisions: [], transition: null };
    if (s.name === 'draining')
      return { state: { ...s, want: 'stopped' }, decisions: [{ kind: 'stop-runtime', graceMs: options.stopGraceMs }], transition: null };
    if (s.name === 'failed' || s.name === 'pulling') {
      const decisions: Decision[] = s.name === 'failed' ? [{ kind: 'cancel-restart' }] : [{ kind: 'abort-start' }];
      return move(s, 'stopped', now, reason, { want: 'stopped', restartAt: null }, decisions);
    }
    const decisions: Decision[] = [];
    if (s.name === 'starting') decisions.push({ kind: 'abort-start' });
    decisions.push({ kind: 'stop-runtime', graceMs: options.stopGraceMs });
    return move(s, 'draining', now, reason, { want: 'stopped' }, decisions);
  };

  const stale = (s: MachineState, e: EngineEvent): boolean =>
    'attempt' in e && e.attempt !== undefined && e.attempt !== s.attempt;

  const onTick = (s: MachineState, now: number): StepResult => {
    if ((s.name === 'starting' || s.name === 'loading') && now - startedAt(s) >= options.startupBudgetMs) {
      return fail(s, now, ENGINE_ERROR_CODES.START_TIMEOUT, `not warm within ${options.startupBudgetMs} ms`);
    }
    if (s.name === 'warm' && now - s.since >= options.stableAfterMs && (s.consecutiveFailures > 0 || s.crashLoop)) {
      return { state: { ...s, consecutiveFailures: 0, crashLoop: false, failureTimes: [] }, decisions: [], transition: null };
    }
    return unchanged(s);
  };

  /** When the current launch began: `since` in starting; since minus the start phase in loading. */
  const startedAt = (s: MachineState): number => (s.name === 'loading' ? s.since - (s.phases.startMs ?? 0) : s.since);

  const step = (s: MachineState, e: EngineEvent, now: number): StepResult => {
    if (stale(s, e)) return unchanged(s);
    switch (e.kind) {
      case 'start':
        if (s.name === 'stopped') return coldStart(s, now, 'start');
        return s.name === 'draining' ? unchanged(s) : unchanged({ ...s, want: 'running' });
      case 'restart':
        return s.name === 'failed' && s.want === 'running' ? coldStart(s, now, 'restart after backoff') : unchanged(s);
      case 'pulled':
        if (s.name !== 'pulling') return unchanged(s);
        return move(s, 'starting', now, 'image ready', { phases: { pullMs: now - s.since, startMs: null } }, [
          { kind: 'launch', attempt: s.attempt },
        ]);
      case 'launched':
        if (s.name !== 'starting') return unchanged(s);
        return move(s, 'loading', now, 'engine process running', {
          phases: { pullMs: s.phases.pullMs, startMs: now - s.since },
        });
      case 'ready': {
        if (s.name !== 'loading') return unchanged(s);
        const lastColdStart = { pullMs: s.phases.pullMs ?? 0, startMs: s.phases.startMs ?? 0, loadMs: now - s.since };
        return move(s, 'warm', now, 'health ok and model listed', { lastColdStart, healthFailures: 0, progress: { value: null, since: now } });
      }
      case 'health':
        return onHealth(s, e, now);
      case 'progress':
        return onProgress(s, e, now);
      case 'fail':
        if (ACTIVE.has(s.name)) return fail(s, now, e.code, e.reason);
        if (s.name === 'draining') return move(s, 'stopped', now, e.reason, {}, [], e.code);
        return unchanged(s);
      case 'exited': {
        const reason = `engine exited (code ${e.code}, signal ${e.signal})`;
        if (s.name === 'draining') return move(s, 'stopped', now, reason);
        if (RUNTIME_MAY_LIVE.has(s.name)) return fail(s, now, ENGINE_ERROR_CODES.EXITED, reason);
        return unchanged(s);
      }
      case 'tick':
        return onTick(s, now);
      case 'drain':
        if (s.name === 'warm')
          return move(s, 'draining', now, 'drain requested', { want: 'stopped' }, [
            { kind: 'await-drain', deadlineAt: e.deadlineAt },
          ]);
        return stopNow(s, now, 'drain requested');
      case 'drained':
        return s.name === 'draining'
          ? { state: s, decisions: [{ kind: 'stop-runtime', graceMs: options.stopGraceMs }], transition: null }
          : unchanged(s);
      case 'stop':
        return stopNow(s, now, 'stop requested');
    }
  };

  const onHealth = (s: MachineState, e: Extract<EngineEvent, { kind: 'health' }>, now: number): StepResult => {
    if (s.name !== 'warm') return unchanged(s);
    if (e.ok) return s.healthFailures === 0 ? unchanged(s) : unchanged({ ...s, healthFailures: 0 });
    // A timeout counts like any failure: vLLM's /health can answer late when saturated, and a
    // restart on one slow answer would drop every request in flight.
    const healthFailures = s.healthFailures + 1;
    if (healthFailures >= options.unhealthyThreshold) {
      return fail(s, now, ENGINE_ERROR_CODES.UNHEALTHY, e.reason ?? `${healthFailures} failed health probes`);
    }
    return unchanged({ ...s, healthFailures });
  };

  /**
   * Liveness from progress: /health only says the engine has not errored (vLLM keeps it 200
   * when deadlocked), so a counter that stays flat while requests run or wait is the signal.
   * Idle time and unknown counters restart the window; only busy, flat time counts.
   */
  const onProgress = (s: MachineState, e: Extract<EngineEvent, { kind: 'progress' }>, now: number): StepResult => {
    if (s.name !== 'warm') return unchanged(s);
    if (e.value === null || !e.busy || e.value !== s.progress.value) return unchanged({ ...s, progress: { value: e.value, since: now } });
    const flatMs = now - s.progress.since;
    if (options.stallTimeoutMs > 0 && flatMs >= options.stallTimeoutMs) {
      return fail(s, now, ENGINE_ERROR_CODES.STALLED, `no progress for ${flatMs} ms with requests running or waiting`);
    }
    return unchanged(s);
  };

  const initial = (now: number): MachineState => ({
    name: 'stopped',
    since: now,
    want: 'stopped',
    attempt: 0,
    healthFailures: 0,
    consecutiveFailures: 0,
    failureTimes: [],
    crashLoop: false,
    restartAt: null,
    lastFailure: null,
    phases: { pullMs: null, startMs: null },
    lastColdStart: null,
    progress: { value: null, since: now },
  });

  return { initial, step };
}

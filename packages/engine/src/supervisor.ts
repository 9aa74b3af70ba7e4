import { SynktiError, silentLogger, systemClock, type TimerHandle } from '@synkti/interface';
import { parseEngineConfig } from './config.js';
import { ENGINE_HOST, MAX_FAILURE_HISTORY, MAX_TRANSITION_LISTENERS } from './constants.js';
import { ENGINE_ERROR_CODES, EngineNotReadyError } from './errors.js';
import { InFlight } from './in-flight.js';
import { type EngineCounters, type EngineLoad, UNKNOWN_COUNTERS, UNKNOWN_LOAD } from './load.js';
import { type Decision, type EngineEvent, engineMachine, type MachineState, type Transition } from './machine.js';
import type { FetchFn } from './probe.js';
import { engineProbes } from './readiness.js';
import type { EngineProcess } from './runtime.js';
import { createRuntime } from './runtime-factory.js';
import type { EngineComponents, EngineSupervisor, EngineSupervisorInit } from './supervisor-types.js';

export type { EngineComponents, EngineSnapshot, EngineSupervisor, EngineSupervisorInit } from './supervisor-types.js';

/**
 * The engine supervisor: the shell around the pure state machine. It executes the machine's
 * decisions (pull, launch, stop, restart timers), feeds it probe results and process exits,
 * scrapes /metrics, counts in-flight requests and drains.
 */
export function engineSupervisor(init: EngineSupervisorInit, components: EngineComponents = {}): EngineSupervisor {
  const config = parseEngineConfig(init.config);
  const clock = components.clock ?? systemClock;
  const fetchFn: FetchFn = components.fetch ?? ((input, reqInit) => fetch(input, reqInit));
  const logger = (components.logger ?? silentLogger).child({ component: 'engine', port: config.port });
  const baseUrl = `http://${ENGINE_HOST}:${config.port}`;
  const probes = engineProbes(config, baseUrl, fetchFn, logger);
  const runtime = init.runtime ?? createRuntime(config, { clock, logger }, (signal) => probes.ready(signal));
  const machine = engineMachine(
    {
      startupBudgetMs: config.startupBudgetMs,
      unhealthyThreshold: config.unhealthyThreshold,
      stallTimeoutMs: config.stallTimeoutMs,
      backoff: {
        initialMs: config.restart.initialBackoffMs,
        maxMs: config.restart.maxBackoffMs,
        jitterRatio: config.restart.jitterRatio,
      },
      crashLoopFailures: config.restart.crashLoopFailures,
      crashLoopWindowMs: config.restart.crashLoopWindowMs,
      stableAfterMs: config.restart.stableAfterMs,
      stopGraceMs: config.stopGraceMs,
      maxFailureHistory: MAX_FAILURE_HISTORY,
    },
    components.rng ?? Math.random,
  );

  let s: MachineState = machine.initial(clock.now());
  let started = false;
  let load: EngineLoad = UNKNOWN_LOAD;
  let counters: EngineCounters = UNKNOWN_COUNTERS;
  let version: string | null = null;
  const inFlight = new InFlight();
  const listeners = new Set<(t: Transition) => void>();
  const stoppedWaiters: Array<() => void> = [];
  let proc: EngineProcess | null = null;
  let startAbort = new AbortController();
  let lifeAbort = new AbortController();
  let stopping: Promise<unknown> = Promise.resolve();
  let restartTimer: TimerHandle | null = null;
  let drainTimer: TimerHandle | null = null;
  let loopTimer: TimerHandle | null = null;
  let probing = false;
  const queue: EngineEvent[] = [];
  let dispatching = false;

  const dispatch = (event: EngineEvent): void => {
    queue.push(event);
    if (dispatching) return;
    dispatching = true;
    try {
      for (let e = queue.shift(); e !== undefined; e = queue.shift()) apply(e);
    } finally {
      dispatching = false;
    }
  };

  const apply = (event: EngineEvent): void => {
    const result = machine.step(s, event, clock.now());
    s = result.state;
    if (result.transition !== null) announce(result.transition);
    for (const d of result.decisions) execute(d);
    if (s.name !== 'warm' && s.name !== 'draining') {
      load = UNKNOWN_LOAD;
      counters = UNKNOWN_COUNTERS;
    }
    if (s.name === 'stopped') for (const w of stoppedWaiters.splice(0)) w();
  };

  const announce = (t: Transition): void => {
    const level = t.to === 'failed' ? 'warn' : 'info';
    logger[level]({ ...t, attempt: s.attempt, crashLoop: s.crashLoop, restartAt: s.restartAt }, 'engine state');
    for (const fn of listeners) {
      try {
        fn(t);
      } catch (err) {
        logger.error({ err }, 'transition listener threw');
      }
    }
    if (t.to === 'loading') kickLoop();
  };

  const failEvent = (err: unknown, attempt: number, fallback: string): EngineEvent => ({
    kind: 'fail',
    code: err instanceof SynktiError ? err.code : fallback,
    reason: err instanceof Error ? err.message : String(err),
    attempt,
  });

  const pull = (attempt: number): void => {
    startAbort = new AbortController();
    runtime.prepare(startAbort.signal).then(
      () => dispatch({ kind: 'pulled', attempt }),
      (err) => {
        logger.warn({ err, attempt }, 'engine prepare failed');
        dispatch(failEvent(err, attempt, ENGINE_ERROR_CODES.DOCKER_FAILED));
      },
    );
  };

  const launch = async (attempt: number): Promise<void> => {
    const signal = startAbort.signal;
    await stopping; // the previous engine must be gone before its port is reused
    let p: EngineProcess;
    try {
      signal.throwIfAborted();
      p = await runtime.launch(signal);
    } catch (err) {
      logger.warn({ err, attempt }, 'engine launch failed');
      dispatch(failEvent(err, attempt, ENGINE_ERROR_CODES.SPAWN_FAILED));
      return;
    }
    proc = p;
    p.exited.then((exit) => {
      if (proc === p) proc = null;
      dispatch({ kind: 'exited', code: exit.code, signal: exit.signal, attempt });
    });
    if (signal.aborted || attempt !== s.attempt) stopRuntime(config.stopGraceMs);
    else dispatch({ kind: 'launched', attempt });
  };

  const stopRuntime = (graceMs: number): void => {
    const p = proc;
    if (p === null) return;
    stopping = p.stop(graceMs).catch((err) => logger.error({ err }, 'engine stop failed'));
  };

  const execute = (d: Decision): void => {
    switch (d.kind) {
      case 'pull':
        pull(d.attempt);
        return;
      case 'launch':
        void launch(d.attempt);
        return;
      case 'abort-start':
        startAbort.abort();
        return;
      case 'stop-runtime':
        stopRuntime(d.graceMs);
        return;
      case 'await-drain':
        drainTimer = clock.setTimeout(() => dispatch({ kind: 'drained' }), Math.max(0, d.deadlineAt - clock.now()));
        inFlight.whenIdle(() => queueMicrotask(() => dispatch({ kind: 'drained' })));
        return;
      case 'schedule-restart':
        if (restartTimer !== null) clock.clearTimeout(restartTimer);
        restartTimer = clock.setTimeout(() => {
          restartTimer = null;
          dispatch({ kind: 'restart' });
        }, d.delayMs);
        return;
      case 'cancel-restart':
        if (restartTimer !== null) clock.clearTimeout(restartTimer);
        restartTimer = null;
        return;
    }
  };

  // The loop: one timer, one probe at a time. Loading: readiness; warm or draining: health + load.
  const scheduleLoop = (delayMs: number): void => {
    if (!started || loopTimer !== null) return;
    loopTimer = clock.setTimeout(() => {
      loopTimer = null;
      void loop();
    }, delayMs);
  };

  const kickLoop = (): void => {
    if (probing || !started) return;
    if (loopTimer !== null) clock.clearTimeout(loopTimer);
    loopTimer = null;
    scheduleLoop(0);
  };

  const loop = async (): Promise<void> => {
    if (probing) return;
    probing = true;
    try {
      dispatch({ kind: 'tick' });
      if (s.name === 'loading') await checkReadiness(s.attempt);
      else if (s.name === 'warm' || s.name === 'draining') await checkHealth(s.attempt);
    } catch (err) {
      logger.error({ err }, 'engine probe loop failed');
    } finally {
      probing = false;
    }
    scheduleLoop(s.name === 'loading' ? config.readinessIntervalMs : config.healthIntervalMs);
  };

  const checkReadiness = async (attempt: number): Promise<void> => {
    if (!(await probes.ready(lifeAbort.signal))) return;
    dispatch({ kind: 'ready', attempt });
    // Once per warm engine: an upgrade in place shows as a new version after the restart.
    const v = await probes.version(lifeAbort.signal);
    if (attempt === s.attempt) version = v;
  };

  const checkHealth = async (attempt: number): Promise<void> => {
    const health = await probes.health(lifeAbort.signal);
    if (health.ok) dispatch({ kind: 'health', ok: true, attempt });
    else dispatch({ kind: 'health', ok: false, timedOut: health.timedOut, reason: health.reason, attempt });
    if (s.name !== 'warm' && s.name !== 'draining') return;
    const next = await probes.metrics(lifeAbort.signal);
    if (attempt !== s.attempt || (s.name !== 'warm' && s.name !== 'draining')) return;
    load = next.load;
    counters = next.counters;
    const busy = (next.load.running ?? 0) + (next.load.waiting ?? 0) > 0 || inFlight.count > 0;
    dispatch({ kind: 'progress', value: next.counters.progress, busy, attempt });
  };

  const whenStopped = (): Promise<void> =>
    s.name === 'stopped' ? Promise.resolve() : new Promise((resolve) => stoppedWaiters.push(resolve));

  const clearTimers = (): void => {
    for (const t of [restartTimer, drainTimer, loopTimer]) if (t !== null) clock.clearTimeout(t);
    restartTimer = drainTimer = loopTimer = null;
  };

  return {
    baseUrl,
    config,
    state: () => s.name,
    snapshot: () => ({
      state: s.name,
      inStateMs: Math.max(0, clock.now() - s.since),
      models: [config.servedModelName],
      load,
      counters,
      version,
      inFlight: inFlight.count,
      capacity: config.capacity,
      crashLoop: s.crashLoop,
      restartAt: s.restartAt,
      lastFailure: s.lastFailure,
      lastColdStart: s.lastColdStart,
      pid: proc?.pid ?? null,
    }),
    onTransition(fn) {
      if (listeners.size >= MAX_TRANSITION_LISTENERS) throw new SynktiError('ENGINE_TOO_MANY_LISTENERS', 'too many transition listeners');
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    async start() {
      if (!started) {
        started = true;
        lifeAbort = new AbortController();
        scheduleLoop(config.readinessIntervalMs);
      }
      dispatch({ kind: 'start' });
    },
    async stop() {
      if (!started) return;
      dispatch({ kind: 'stop' });
      await whenStopped();
      await stopping;
      started = false;
      inFlight.cancelIdleWait();
      lifeAbort.abort();
      clearTimers();
    },
    async drain(timeoutMs = config.drainTimeoutMs) {
      if (s.name === 'stopped') return;
      dispatch({ kind: 'drain', deadlineAt: clock.now() + timeoutMs });
      await whenStopped();
      if (drainTimer !== null) clock.clearTimeout(drainTimer);
      drainTimer = null;
      inFlight.cancelIdleWait();
    },
    beginRequest(sequences = 1) {
      if (s.name !== 'warm') throw new EngineNotReadyError(s.name);
      return inFlight.begin(Number.isInteger(sequences) && sequences > 0 ? sequences : 1);
    },
  };
}

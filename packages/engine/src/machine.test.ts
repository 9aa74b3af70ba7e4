import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock, seededRng } from '@synkti/interface';
import { backoffDelayMs } from './backoff.js';
import { ENGINE_ERROR_CODES } from './errors.js';
import { type Decision, type EngineEvent, engineMachine, type MachineOptions, type MachineState, type Transition } from './machine.js';

const options: MachineOptions = {
  startupBudgetMs: 20 * 60_000,
  unhealthyThreshold: 3,
  stallTimeoutMs: 60_000,
  backoff: { initialMs: 1_000, maxMs: 60_000, jitterRatio: 0.2 },
  crashLoopFailures: 5,
  crashLoopWindowMs: 60_000,
  stableAfterMs: 60_000,
  stopGraceMs: 10_000,
  maxFailureHistory: 32,
};

/** Drives the pure machine on a ManualClock and records what it says. */
function harness(opts: MachineOptions = options, rng = seededRng(7)) {
  const clock = new ManualClock(1_000_000);
  const m = engineMachine(opts, rng);
  let state: MachineState = m.initial(clock.now());
  const transitions: Transition[] = [];
  let decisions: Decision[] = [];
  const send = (e: EngineEvent): Decision[] => {
    const r = m.step(state, e, clock.now());
    state = r.state;
    if (r.transition) transitions.push(r.transition);
    decisions = r.decisions;
    return r.decisions;
  };
  const toWarm = (pull = 0, start = 0, load = 0): void => {
    send({ kind: 'start' });
    clock.advance(pull);
    send({ kind: 'pulled', attempt: state.attempt });
    clock.advance(start);
    send({ kind: 'launched', attempt: state.attempt });
    clock.advance(load);
    send({ kind: 'ready', attempt: state.attempt });
  };
  return { clock, send, toWarm, transitions, get state() { return state; }, get decisions() { return decisions; } };
}

describe('engine state machine', () => {
  it('walks a cold start stopped → pulling → starting → loading → warm and keeps the phase durations', () => {
    const h = harness();
    assert.deepEqual(h.send({ kind: 'start' }), [{ kind: 'pull', attempt: 1 }]);
    h.clock.advance(5_000);
    assert.deepEqual(h.send({ kind: 'pulled', attempt: 1 }), [{ kind: 'launch', attempt: 1 }]);
    h.clock.advance(300);
    h.send({ kind: 'launched', attempt: 1 });
    h.clock.advance(90_000);
    h.send({ kind: 'ready', attempt: 1 });
    assert.equal(h.state.name, 'warm');
    assert.deepEqual(h.state.lastColdStart, { pullMs: 5_000, startMs: 300, loadMs: 90_000 });
    assert.deepEqual(
      h.transitions.map((t) => [t.from, t.to, t.inStateMs]),
      [
        ['stopped', 'pulling', 0],
        ['pulling', 'starting', 5_000],
        ['starting', 'loading', 300],
        ['loading', 'warm', 90_000],
      ],
    );
    assert.equal(h.transitions[3]?.at, 1_000_000 + 95_300);
  });

  it('ignores results of an older attempt', () => {
    const h = harness();
    h.send({ kind: 'start' });
    h.send({ kind: 'pulled', attempt: 1 });
    h.send({ kind: 'launched', attempt: 1 });
    h.send({ kind: 'exited', code: 1, signal: null, attempt: 1 });
    assert.equal(h.state.name, 'failed');
    h.clock.advance(2_000);
    h.send({ kind: 'restart' });
    assert.equal(h.state.attempt, 2);
    h.send({ kind: 'pulled', attempt: 1 });
    assert.equal(h.state.name, 'pulling');
  });

  it('fails a launch that is not warm within the start-up budget, and not before', () => {
    const h = harness();
    h.send({ kind: 'start' });
    h.clock.advance(10 * 60_000); // a long pull does not count against the budget
    h.send({ kind: 'pulled', attempt: 1 });
    h.clock.advance(1_000);
    h.send({ kind: 'launched', attempt: 1 });
    h.clock.advance(options.startupBudgetMs - 1_001);
    h.send({ kind: 'tick' });
    assert.equal(h.state.name, 'loading');
    h.clock.advance(1);
    const decisions = h.send({ kind: 'tick' });
    assert.equal(h.state.name, 'failed');
    assert.equal(h.state.lastFailure?.code, ENGINE_ERROR_CODES.START_TIMEOUT);
    assert.ok(decisions.some((d) => d.kind === 'stop-runtime'));
    assert.ok(decisions.some((d) => d.kind === 'schedule-restart'));
  });

  it('fails a warm engine after N failed probes in a row, timeouts counted like any failure', () => {
    const h = harness();
    h.toWarm();
    h.send({ kind: 'health', ok: false, attempt: 1 });
    h.send({ kind: 'health', ok: true, attempt: 1 });
    h.send({ kind: 'health', ok: false, attempt: 1 });
    h.send({ kind: 'health', ok: false, attempt: 1 });
    assert.equal(h.state.name, 'warm');
    h.send({ kind: 'health', ok: false, attempt: 1 });
    assert.equal(h.state.name, 'failed');
    assert.equal(h.transitions.at(-1)?.code, ENGINE_ERROR_CODES.UNHEALTHY);

    // A saturated vLLM answers /health late: one or two timeouts between answers cost nothing.
    const t = harness();
    t.toWarm();
    for (let i = 0; i < 5; i++) {
      t.send({ kind: 'health', ok: false, timedOut: true, attempt: 1 });
      t.send({ kind: 'health', ok: false, timedOut: true, attempt: 1 });
      t.send({ kind: 'health', ok: true, attempt: 1 });
    }
    assert.equal(t.state.name, 'warm', 'slow answers under load are not a failure');
    for (let i = 0; i < 3; i++) t.send({ kind: 'health', ok: false, timedOut: true, attempt: 1 });
    assert.equal(t.state.name, 'failed', 'three timeouts in a row are');
  });

  it('fails a warm engine whose progress counter stays flat while it has work, /health notwithstanding', () => {
    const h = harness();
    h.toWarm();
    const progress = (value: number | null, busy: boolean): void => void h.send({ kind: 'progress', value, busy, attempt: 1 });
    progress(100, true);
    for (let i = 0; i < 10; i++) {
      h.clock.advance(10_000);
      progress(100 + (i + 1) * 50, true);
      h.send({ kind: 'health', ok: true, attempt: 1 });
    }
    assert.equal(h.state.name, 'warm', 'moving counter: alive');
    // Idle for longer than the window: a flat counter with nothing to do is not a stall.
    for (let i = 0; i < 10; i++) {
      h.clock.advance(10_000);
      progress(600, false);
    }
    assert.equal(h.state.name, 'warm', 'idle is not hung');
    // Unknown counters (a scrape that failed) restart the window rather than judge.
    h.clock.advance(50_000);
    progress(null, true);
    h.clock.advance(50_000);
    progress(600, true);
    assert.equal(h.state.name, 'warm');
    // Work arrives and nothing moves: hung once the window has passed, not before.
    h.clock.advance(59_999);
    progress(600, true);
    h.send({ kind: 'health', ok: true, attempt: 1 });
    assert.equal(h.state.name, 'warm');
    h.clock.advance(1);
    progress(600, true);
    assert.equal(h.state.name, 'failed');
    assert.equal(h.transitions.at(-1)?.code, ENGINE_ERROR_CODES.STALLED);
    assert.ok(h.decisions.some((d) => d.kind === 'stop-runtime'), 'the hung engine is stopped and restarted');

    const off = harness({ ...options, stallTimeoutMs: 0 });
    off.toWarm();
    off.send({ kind: 'progress', value: 5, busy: true, attempt: 1 });
    off.clock.advance(3_600_000);
    off.send({ kind: 'progress', value: 5, busy: true, attempt: 1 });
    assert.equal(off.state.name, 'warm', 'a zero window never judges');
  });

  it('restarts with doubling backoff, flags a crash loop at 5 failures in 60 s and holds the cap', () => {
    const h = harness();
    h.toWarm();
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      h.send({ kind: 'exited', code: 137, signal: null, attempt: h.state.attempt });
      assert.equal(h.state.name, 'failed');
      const restart = h.decisions.find((d) => d.kind === 'schedule-restart');
      assert.ok(restart && restart.kind === 'schedule-restart');
      delays.push(restart.delayMs);
      assert.equal(h.state.crashLoop, i === 4, `crash loop after failure ${i + 1}`);
      h.clock.advance(restart.delayMs);
      h.send({ kind: 'restart' });
      h.send({ kind: 'pulled', attempt: h.state.attempt });
      h.send({ kind: 'launched', attempt: h.state.attempt });
    }
    // 1 s, 2 s, 4 s, 8 s ±20 %, then the cap (jitter only downwards from it)
    for (const [i, base] of [1_000, 2_000, 4_000, 8_000].entries()) {
      assert.ok(delays[i]! >= base * 0.8 && delays[i]! <= base * 1.2, `delay ${i} = ${delays[i]}`);
    }
    assert.ok(delays[4]! >= 48_000 && delays[4]! <= 60_000, `crash-loop delay ${delays[4]}`);
    // further failures stay at the cap and the machine keeps restarting: it never gives up
    for (let i = 0; i < 10; i++) {
      h.send({ kind: 'exited', code: 1, signal: null, attempt: h.state.attempt });
      const d = h.decisions.find((x) => x.kind === 'schedule-restart');
      assert.ok(d && d.kind === 'schedule-restart' && d.delayMs >= 48_000 && d.delayMs <= 60_000);
      h.clock.advance(d.delayMs);
      h.send({ kind: 'restart' });
      assert.equal(h.state.name, 'pulling');
      h.send({ kind: 'pulled', attempt: h.state.attempt });
      h.send({ kind: 'launched', attempt: h.state.attempt });
    }
    assert.equal(h.state.crashLoop, true);
  });

  it('does not flag a crash loop for failures spread beyond the window, and forgives after a stable period', () => {
    const h = harness();
    for (let i = 0; i < 6; i++) {
      if (h.state.name === 'failed') {
        h.send({ kind: 'restart' });
      }
      h.toWarm();
      h.clock.advance(30_000);
      h.send({ kind: 'tick' });
      h.send({ kind: 'exited', code: 1, signal: null, attempt: h.state.attempt });
      h.clock.advance(30_000);
    }
    assert.equal(h.state.crashLoop, false);
    // consecutive failures grew the backoff (never stably warm for 60 s)
    assert.ok(h.state.consecutiveFailures === 6);
    h.send({ kind: 'restart' });
    h.toWarm();
    h.clock.advance(60_000);
    h.send({ kind: 'tick' });
    assert.equal(h.state.consecutiveFailures, 0);
  });

  it('drains: warm → draining, awaits in-flight, stops the runtime, then stopped on exit', () => {
    const h = harness();
    h.toWarm();
    h.clock.advance(1_000);
    assert.deepEqual(h.send({ kind: 'drain', deadlineAt: h.clock.now() + 30_000 }), [
      { kind: 'await-drain', deadlineAt: h.clock.now() + 30_000 },
    ]);
    assert.equal(h.state.name, 'draining');
    h.send({ kind: 'health', ok: false, timedOut: true, attempt: 1 });
    assert.equal(h.state.name, 'draining', 'probes do not fail a draining engine');
    assert.deepEqual(h.send({ kind: 'drained' }), [{ kind: 'stop-runtime', graceMs: 10_000 }]);
    h.clock.advance(2_000);
    h.send({ kind: 'exited', code: 0, signal: null, attempt: 1 });
    assert.equal(h.state.name, 'stopped');
    assert.deepEqual(h.transitions.at(-1), {
      from: 'draining',
      to: 'stopped',
      at: h.clock.now(),
      inStateMs: 2_000,
      reason: 'engine exited (code 0, signal null)',
    });
    h.send({ kind: 'restart' });
    assert.equal(h.state.name, 'stopped', 'no restart after a drain');
  });

  it('stop while failed cancels the restart; stop while pulling aborts the pull', () => {
    const h = harness();
    h.toWarm();
    h.send({ kind: 'exited', code: 1, signal: null, attempt: 1 });
    assert.deepEqual(h.send({ kind: 'stop' }), [{ kind: 'cancel-restart' }]);
    assert.equal(h.state.name, 'stopped');
    h.send({ kind: 'start' });
    assert.deepEqual(h.send({ kind: 'stop' }), [{ kind: 'abort-start' }]);
    assert.equal(h.state.name, 'stopped');
  });
});

describe('backoffDelayMs', () => {
  const b = { initialMs: 1_000, maxMs: 60_000, jitterRatio: 0.2 };
  it('doubles from the initial delay and caps', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelayMs(n, false, b, 0.5)),
      [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000],
    );
  });
  it('jitters within ±ratio and never above the cap', () => {
    assert.equal(backoffDelayMs(1, false, b, 0), 800);
    assert.equal(backoffDelayMs(1, false, b, 0.999999), 1_200);
    assert.equal(backoffDelayMs(10, false, b, 0.999999), 60_000);
    assert.equal(backoffDelayMs(1, true, b, 0), 48_000);
  });
});

// The supervisor driving a real engine process (the fake vLLM engine) through the process
// runtime: cold start, crash and restart, crash loop, hang, drain. Waits are on transitions
// with bounded timeouts; every PID started is killed in `after`. Run alone (after the concurrent
// phase): these tests time probes against real processes, and on a 2-core machine busy with other
// suites a probe's timing is not the engine's (the late-/health test failed there 3 times).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { hasCode } from '@synkti/interface';
import { ENGINE_ERROR_CODES } from '../errors.js';
import { processRuntime } from '../process-runtime.js';
import { type EngineSupervisor, engineSupervisor } from '../supervisor.js';
import { alive, FAST, fakeEngineArgv, freePort, killAll, MODEL, tracked, watch } from './helpers.js';

const pids: number[] = [];
const supervisors: EngineSupervisor[] = [];
after(async () => {
  await Promise.allSettled(supervisors.map((s) => s.stop()));
  killAll(pids);
});

async function setup(extraFlags: string[] = [], overrides: Record<string, unknown> = {}, loadMs = 150) {
  const port = await freePort();
  const argv = fakeEngineArgv(port, extraFlags, loadMs);
  let healthProbes = 0;
  const health = { ok: 0, timedOut: 0 };
  const countingFetch = async (input: string, init?: RequestInit) => {
    if (!input.endsWith('/health')) return fetch(input, init);
    healthProbes++;
    try {
      const res = await fetch(input, init);
      if (res.status === 200) health.ok++;
      return res;
    } catch (err) {
      if (err instanceof Error && err.name === 'TimeoutError') health.timedOut++;
      throw err;
    }
  };
  const sup = engineSupervisor(
    {
      config: { model: MODEL, port, ...FAST, ...overrides, runtime: { kind: 'process', argv } },
      runtime: tracked(processRuntime({ argv }), pids),
    },
    { fetch: countingFetch },
  );
  supervisors.push(sup);
  return { sup, port, w: watch(sup), healthProbes: () => healthProbes, health };
}

/** Starts a long streamed completion and keeps reading it; abort() ends it. */
function longStream(sup: EngineSupervisor): AbortController {
  const abort = new AbortController();
  const body = JSON.stringify({ model: MODEL, prompt: 'busy', max_tokens: 4_000, ignore_eos: true, stream: true });
  void fetch(`${sup.baseUrl}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: abort.signal })
    .then(async (res) => {
      for await (const _ of res.body!) {
        // drain
      }
    })
    .catch(() => {});
  return abort;
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const fault = (sup: EngineSupervisor, body: object) =>
  fetch(`${sup.baseUrl}/_fake/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('engine supervisor with the process runtime', () => {
  for (const mode of ['closed', '503']) {
    it(`cold-starts through loading to warm (load mode ${mode}) and reports phase durations`, async () => {
      const { sup, w } = await setup(['--load-mode', mode], {}, 300);
      assert.equal(sup.state(), 'stopped');
      await sup.start();
      await sup.start(); // harmless when repeated
      await w.to('warm');
      assert.deepEqual(
        w.seen.map((t) => `${t.from}->${t.to}`),
        ['stopped->pulling', 'pulling->starting', 'starting->loading', 'loading->warm'],
      );
      const snap = sup.snapshot();
      assert.equal(snap.state, 'warm');
      assert.deepEqual(snap.models, [MODEL]);
      const cold = snap.lastColdStart;
      assert.ok(cold !== null);
      assert.ok(cold.pullMs >= 0 && cold.startMs >= 0);
      assert.ok(cold.loadMs >= 300, `load phase covers the engine's own load time, got ${cold.loadMs}`);
      assert.equal(w.seen[3]?.inStateMs, cold.loadMs);
      // the engine serves, and the gateway's request accounting works
      const release = sup.beginRequest();
      assert.equal(sup.snapshot().inFlight, 1);
      const res = await fetch(`${sup.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
      });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      release();
      release(); // idempotent
      assert.equal(sup.snapshot().inFlight, 0);
      await sup.stop();
      assert.equal(sup.state(), 'stopped');
      await sup.stop(); // harmless when repeated
    });
  }

  it('scrapes load from /metrics once warm', async () => {
    const { sup, w } = await setup();
    await sup.start();
    await w.to('warm');
    const deadline = Date.now() + 10_000;
    while (sup.snapshot().load.running === null) {
      assert.ok(Date.now() < deadline, 'load never scraped');
      await new Promise((r) => setTimeout(r, 20));
    }
    const { load } = sup.snapshot();
    assert.equal(load.running, 0);
    assert.equal(load.waiting, 0);
    assert.equal(typeof load.kvCacheUsage, 'number');
    await sup.stop();
  });

  it('restarts a crashed engine with backoff and gets warm again', async () => {
    const { sup, w } = await setup();
    await sup.start();
    await w.to('warm');
    const pidsBefore = pids.length;
    await fault(sup, { crash: true }).catch(() => {});
    const failed = await w.to('failed');
    assert.equal(failed.from, 'warm');
    assert.equal(failed.code, ENGINE_ERROR_CODES.EXITED);
    const snap = sup.snapshot();
    assert.ok(snap.restartAt !== null && snap.restartAt > failed.at);
    const restarted = await w.next((t) => t.from === 'failed' && t.to === 'pulling');
    assert.ok(restarted.inStateMs >= 40, `waited the backoff (50 ms - 20 % jitter), got ${restarted.inStateMs}`);
    await w.to('warm', 20_000, w.seen.indexOf(restarted));
    assert.equal(pids.length, pidsBefore + 1, 'a new engine process');
    assert.equal(sup.snapshot().crashLoop, false);
    await sup.stop();
  });

  it('flags a crash loop after five crashes within a minute, holds backoff at the cap and keeps going', async () => {
    const { sup, w } = await setup(['--crash-after-ms', '250'], {}, 50);
    await sup.start();
    for (let i = 1; i <= 5; i++) await w.next((t) => t.to === 'failed' && w.seen.filter((x) => x.to === 'failed').length === i);
    const snap = sup.snapshot();
    assert.equal(snap.crashLoop, true);
    assert.equal(snap.state, 'failed');
    const fifth = w.seen.filter((t) => t.to === 'failed')[4]!;
    const delay = snap.restartAt! - fifth.at;
    assert.ok(delay >= 320 && delay <= 400, `backoff held at the 400 ms cap (−20 % jitter), got ${delay}`);
    // the supervisor does not give up: a sixth cold start follows
    const sixth = await w.next((t) => t.from === 'failed' && t.to === 'pulling' && t.at > fifth.at);
    assert.ok(sixth.inStateMs >= 320);
    await sup.stop();
    assert.equal(sup.state(), 'stopped');
  });

  it('fails a hung engine after the probe timeout and restarts it', async () => {
    const { sup, w } = await setup();
    await sup.start();
    await w.to('warm');
    await fault(sup, { hang: true });
    const failed = await w.to('failed');
    assert.equal(failed.code, ENGINE_ERROR_CODES.UNHEALTHY);
    assert.match(failed.reason, /timed out/);
    await w.to('warm', 20_000, w.seen.indexOf(failed));
    await sup.stop();
  });

  it('keeps a busy engine whose /health answers late now and then: timeouts between answers are no failure', async () => {
    // Threshold 6, and each of 4 rounds lets 2 probes time out (8 in all, more than the threshold:
    // counted together they would fail it). The slack of 4 per round keeps a loaded machine (probes
    // timing out while the fault is being lifted) from failing the test for the wrong reason.
    const { sup, w, health } = await setup([], { unhealthyThreshold: 6, probeTimeoutMs: 1_000 });
    await sup.start();
    await w.to('warm');
    const stream = longStream(sup);
    await until(() => (sup.snapshot().load.running ?? 0) > 0, 'the stream to run');
    for (let round = 0; round < 4; round++) {
      // Saturated: /health answers after the probe timeout, twice in a row.
      const timedOut = health.timedOut;
      await fault(sup, { healthDelayMs: 60_000 });
      // Bounds with room for a loaded 2-core CI machine (probes every interval, each up to 1 s).
      await until(() => health.timedOut >= timedOut + 2, `two probes to time out (round ${round}; probes ${health.ok} ok, ${health.timedOut} timed out; transitions ${w.seen.map((t) => t.to).join(' → ')})`, 30_000);
      const ok = health.ok;
      await fault(sup, { healthDelayMs: 0 });
      await until(() => health.ok > ok, 'a probe to answer', 30_000);
    }
    assert.ok(!w.seen.some((t) => t.to === 'failed'), `never failed: ${JSON.stringify(w.seen.map((t) => t.to))}`);
    assert.equal(sup.state(), 'warm');
    stream.abort();
    await sup.stop();
  });

  it('restarts an engine that makes no progress while requests run, though its /health stays 200', async () => {
    const { sup, w, health } = await setup([], { stallTimeoutMs: 1_500 });
    await sup.start();
    await w.to('warm');
    const stream = longStream(sup);
    await until(() => (sup.snapshot().counters.progress ?? 0) > 0, 'progress to show in /metrics');
    const okBefore = health.ok;
    await fault(sup, { stall: true });
    const failed = await w.to('failed');
    assert.equal(failed.code, ENGINE_ERROR_CODES.STALLED);
    assert.match(failed.reason, /no progress/);
    assert.ok(health.ok > okBefore + 3, 'health kept answering 200 while the engine was stuck');
    stream.abort();
    await w.to('warm', 20_000, w.seen.indexOf(failed));
    await sup.stop();
  });

  it('drain waits for in-flight requests before stopping the engine', async () => {
    const { sup, w, healthProbes } = await setup();
    await sup.start();
    await w.to('warm');
    const pid = pids.at(-1)!;
    const release = sup.beginRequest();
    const drained = sup.drain(30_000);
    await w.to('draining');
    assert.throws(() => sup.beginRequest(), (err: unknown) => hasCode(err, ENGINE_ERROR_CODES.NOT_READY));
    // let the supervisor run a few probe rounds while draining: the engine must stay up
    const probesAtDrain = healthProbes();
    while (healthProbes() < probesAtDrain + 3) await new Promise((r) => setTimeout(r, 10));
    assert.equal(sup.state(), 'draining');
    assert.ok(alive(pid), 'engine still running while a request is in flight');
    release();
    await drained;
    assert.equal(sup.state(), 'stopped');
    assert.equal(w.seen.at(-1)?.from, 'draining');
    assert.ok(!alive(pid), 'engine stopped after the drain');
  });

  it('drain stops the engine at the deadline when requests do not finish', async () => {
    const { sup, w } = await setup();
    await sup.start();
    await w.to('warm');
    sup.beginRequest(); // never released
    await sup.drain(300);
    const stopped = w.seen.at(-1)!;
    assert.deepEqual([stopped.from, stopped.to], ['draining', 'stopped']);
    assert.ok(stopped.inStateMs >= 300, `held until the deadline, got ${stopped.inStateMs}`);
    assert.equal(sup.snapshot().inFlight, 1);
  });
});

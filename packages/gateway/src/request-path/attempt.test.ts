import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamError } from '@synkti/interface';
import { Attempt } from './attempt.js';

const enc = new TextEncoder();

/** An upstream whose chunks the test releases one by one. */
function controlledBody() {
  const waiting: (() => void)[] = [];
  const body = (async function* () {
    for (let i = 0; ; i++) {
      await new Promise<void>((resolve) => waiting.push(resolve));
      yield enc.encode(`chunk ${i}`);
    }
  })();
  return { body, release: () => waiting.shift()?.() };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Attempt', () => {
  it('counts only time spent waiting for upstream toward a stall: a slow reader is no stalled peer', async () => {
    const upstream = controlledBody();
    let released = 0;
    const attempt = new Attempt('p1', { status: 200, headers: {}, body: upstream.body }, new AbortController(), () => released++, undefined);
    const first = attempt.next(200);
    upstream.release();
    assert.equal(new TextDecoder().decode((await first).value), 'chunk 0');
    await sleep(600); // the reader is busy for three stall periods; upstream is not to blame
    const second = attempt.next(200);
    upstream.release();
    assert.equal(new TextDecoder().decode((await second).value), 'chunk 1');
    attempt.end();
    assert.equal(released, 1);
  });

  it('fails a read with STREAM_STALLED when upstream is silent for stallMs, and aborts the attempt', async () => {
    const upstream = controlledBody();
    const controller = new AbortController();
    const attempt = new Attempt('p1', { status: 200, headers: {}, body: upstream.body }, controller, () => undefined, undefined);
    await assert.rejects(attempt.next(100), (err: unknown) => err instanceof UpstreamError && err.code === 'STREAM_STALLED');
    assert.equal(controller.signal.aborted, true);
  });

  it('ends a read in progress when the attempt is aborted, even if the body ignores its signal', async () => {
    const upstream = controlledBody();
    const controller = new AbortController();
    const attempt = new Attempt('p1', { status: 200, headers: {}, body: upstream.body }, controller, () => undefined, undefined);
    const reading = attempt.next(60_000);
    controller.abort(new UpstreamError('PEER_LOST', 'p1 is dead', { retryable: true }));
    await assert.rejects(reading, (err: unknown) => err instanceof UpstreamError && err.code === 'PEER_LOST');
    attempt.end(); // clears the watchdog: nothing keeps the process alive
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AgentMetrics } from './metrics.js';

const sources = { gossip: () => ({ published: 0, received: 0, rejected: 0 }), peersByStatus: () => ({}), engineState: () => null };

/** The value of an unlabelled sample in Prometheus text, or undefined when the series is absent. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('process metrics', () => {
  it('report event-loop lag and utilization without the timer-sampled delay histogram', async () => {
    const metrics = new AgentMetrics(sources);
    await metrics.render();
    // Keep the loop busy for a while, so the next scrape has something to show.
    const until = performance.now() + 30;
    while (performance.now() < until);
    await new Promise((r) => setImmediate(r));
    const { body } = await metrics.render();
    for (const stat of ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99']) {
      assert.equal(sample(body, `synkti_process_nodejs_eventloop_lag_${stat}_seconds`), undefined, `${stat}: it counts its own sampling interval`);
    }
    assert.ok(sample(body, 'synkti_process_nodejs_eventloop_lag_seconds') !== undefined, 'the per-scrape lag is still reported');
    const utilization = sample(body, 'synkti_process_event_loop_utilization');
    assert.ok(utilization !== undefined && utilization > 0 && utilization <= 1, `utilization ${utilization} is a busy share`);
  });
});

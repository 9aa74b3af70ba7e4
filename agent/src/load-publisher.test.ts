import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '@synkti/interface';
import type { LoadInfo } from '@synkti/protocol';
import { LoadPublisher } from './load-publisher.js';

const load = (running: number): LoadInfo => ({ running, waiting: 0, kvCacheUsage: 0, inFlight: 0, capacity: 16 });

describe('LoadPublisher (the agent ticks it every heartbeat; fake clock)', () => {
  it('publishes a load that moved, at most once per load-publish period, and nothing for a steady or slightly moving load', () => {
    const clock = new ManualClock(1_000_000);
    let published: { load: LoadInfo; sentAt: number } | undefined;
    let current = load(0);
    let fleetSize = 40;
    const publishes: number[] = [];
    const publisher = new LoadPublisher({
      clock,
      heartbeatMs: 1_000,
      fleetSize: () => fleetSize,
      published: () => published,
      load: () => current,
      publishNow: () => {
        publishes.push(clock.now());
        published = { load: current, sentAt: clock.now() };
      },
    });
    assert.equal(publisher.tick(), false, 'nothing published yet: the first state is the heartbeat\'s');
    published = { load: load(0), sentAt: clock.now() };
    for (let s = 0; s < 5; s++) {
      clock.advance(1_000);
      current = load(s % 2); // moves by one sequence of 16: under a tenth of capacity
      publisher.tick();
    }
    assert.deepEqual(publishes, [], 'small moves wait for the keep-alive');
    current = load(8);
    clock.advance(1_000);
    assert.equal(publisher.tick(), true, 'a move of half the capacity goes out at the next tick');
    current = load(16);
    clock.advance(1_000);
    assert.equal(publisher.tick(), false, 'a fleet of 40 spaces load publishes two heartbeats apart');
    clock.advance(1_000);
    assert.equal(publisher.tick(), true);
    assert.deepEqual(publishes.map((t) => t - 1_000_000), [6_000, 8_000]);
    fleetSize = 10;
    current = load(0);
    clock.advance(1_000);
    assert.equal(publisher.tick(), true, 'a smaller fleet may hear every heartbeat');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FleetEvent, MembershipView } from '@synkti/fleet';
import { silentLogger } from '@synkti/interface';
import { sampleNodeState } from '@synkti/protocol';
import { createGatewayApp } from './app.js';
import { FleetHistory, HISTORY_INTERVAL_MS, HISTORY_MAX_SAMPLES, type HistoryJson } from './history.js';
import { AgentMetrics } from './metrics.js';

function fleetOf(specs: { id: string; lifecycle: 'spot' | 'on-demand' | 'unknown'; slot: string | null; running?: number }[]) {
  const view = new MembershipView('f');
  for (const s of specs) {
    const state = sampleNodeState({ fleet: 'f', peerId: s.id });
    view.observe({ ...state, provider: { ...state.provider, lifecycle: s.lifecycle, slot: s.slot }, load: { ...state.load, running: s.running ?? 0 } }, 0);
  }
  return view;
}

describe('the fleet history ring buffer', () => {
  it('turns one interval of requests into rates and first-token percentiles, then starts the next from zero', () => {
    const h = new FleetHistory({ spotPerHour: null, onDemandPerHour: null });
    const peers = fleetOf([{ id: 'a', lifecycle: 'spot', slot: '0' }]).snapshot(0);
    h.sample(0, peers, 1, []);
    for (let i = 1; i <= 100; i++) h.recordRequest(i);
    h.recordRequest(null);
    h.recordTokens(500);
    const s = h.sample(HISTORY_INTERVAL_MS, peers, 1, []);
    assert.equal(s.requestsPerS, 100 / (HISTORY_INTERVAL_MS / 1000));
    assert.equal(s.failedPerS, 1 / (HISTORY_INTERVAL_MS / 1000));
    assert.equal(s.ttftP50Ms, 51);
    assert.equal(s.ttftP99Ms, 100);
    assert.equal(s.tokensPerS, 500 / (HISTORY_INTERVAL_MS / 1000));
    const quiet = h.sample(2 * HISTORY_INTERVAL_MS, peers, 1, []);
    assert.deepEqual([quiet.requestsPerS, quiet.tokensPerS, quiet.ttftP50Ms], [0, 0, null]);
  });

  it('keeps at most HISTORY_MAX_SAMPLES samples, oldest out first', () => {
    const h = new FleetHistory({ spotPerHour: null, onDemandPerHour: null });
    for (let i = 0; i < HISTORY_MAX_SAMPLES + 25; i++) h.sample(i * HISTORY_INTERVAL_MS, [], null, []);
    const j = h.toJSON(0);
    assert.equal(j.samples.length, HISTORY_MAX_SAMPLES);
    assert.equal(j.samples[0]!.at, 25 * HISTORY_INTERVAL_MS);
  });

  it('prices the live fleet (unknown lifecycle billed on-demand) and marks scale moves and fleet events once', () => {
    const h = new FleetHistory({ spotPerHour: 0.4, onDemandPerHour: 1 });
    const peers = fleetOf([{ id: 'a', lifecycle: 'spot', slot: '0' }, { id: 'b', lifecycle: 'spot', slot: '1' }, { id: 'c', lifecycle: 'unknown', slot: null }]).snapshot(0);
    const events: FleetEvent[] = [{ at: 7_000, peerId: 'b', kind: 'interrupted', detail: 'terminate' }, { at: 7_000, peerId: 'b', kind: 'engine', detail: 'warm -> draining' }];
    h.sample(5_000, peers, 3, []);
    const s = h.sample(10_000, peers, 4, events);
    assert.deepEqual([s.costPerHour, s.onDemandPerHour], [1.8, 3]);
    h.sample(15_000, peers, 4, events);
    assert.deepEqual(h.toJSON(15_000).events.map((e) => `${e.kind} ${e.detail}`), ['interrupted terminate', 'scale-out 3 → 4']);
  });
});

describe('/fleet/history and the fleet metrics', () => {
  const view = fleetOf([{ id: 'p0', lifecycle: 'spot', slot: '0', running: 3 }, { id: 'p1', lifecycle: 'on-demand', slot: '1', running: 5 }]);
  const fleet = { selfId: 'p0', fleet: 'f', now: () => 42, peers: () => view.snapshot(0), events: (): FleetEvent[] => [] };

  it('serves the ring buffer as JSON, behind the ops keys when keys are set', async () => {
    const history = new FleetHistory({ spotPerHour: 0.3, onDemandPerHour: 1 });
    history.sample(0, view.snapshot(0), 2, []);
    const open = createGatewayApp({ fleet, logger: silentLogger, history });
    const res = await open.request('/fleet/history');
    assert.equal(res.status, 200);
    const body = (await res.json()) as HistoryJson;
    assert.deepEqual([body.intervalMs, body.now, body.samples.length, body.samples[0]!.costPerHour], [HISTORY_INTERVAL_MS, 42, 1, 1.3]);
    const keyed = createGatewayApp({ fleet, logger: silentLogger, history, apiKeys: ['k'] });
    const denied = await keyed.request('/fleet/history');
    assert.equal(denied.status, 401);
    assert.equal(((await denied.json()) as { error: { type: string } }).error.type, 'authentication_error');
    assert.equal((await keyed.request('/fleet/history', { headers: { authorization: 'Bearer k' } })).status, 200);
    assert.equal((await createGatewayApp({ fleet, logger: silentLogger }).request('/fleet/history')).status, 404);
  });

  it('exports cost per hour and load per slot, never per peer ID', async () => {
    const metrics = new AgentMetrics({
      gossip: () => ({ published: 0, received: 0, rejected: 0 }),
      peersByStatus: () => ({}),
      engineState: () => null,
      fleetCost: () => ({ costPerHour: 1.3, onDemandPerHour: 2 }),
      peerLoads: () => [
        { slot: '0', sequences: 3, capacity: 8, kvCacheUsage: 0.25 },
        { slot: '1', sequences: 5, capacity: 8, kvCacheUsage: null },
        { slot: null, sequences: 1, capacity: 8, kvCacheUsage: null },
      ],
    });
    const text = (await metrics.render()).body;
    assert.match(text, /synkti_fleet_cost_per_hour\{kind="actual"\} 1\.3/);
    assert.match(text, /synkti_fleet_cost_per_hour\{kind="on_demand"\} 2/);
    assert.match(text, /synkti_peer_engine_sequences\{slot="1"\} 5/);
    assert.match(text, /synkti_peer_engine_sequences\{slot="none"\} 1/);
    assert.match(text, /synkti_peer_engine_kv_cache_usage\{slot="0"\} 0\.25/);
    assert.doesNotMatch(text, /synkti_peer_engine_kv_cache_usage\{slot="1"\}/);
    assert.doesNotMatch(text, /peer_id|peerId/);
  });
});

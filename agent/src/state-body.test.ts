import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineSnapshot } from '@synkti/engine';
import { loadOf, type StateParts, stateBodyOf } from './state-body.js';

function engine(over: Partial<EngineSnapshot> = {}): EngineSnapshot {
  return {
    state: 'warm',
    inStateMs: 1234.6,
    models: ['m'],
    load: { running: 3, waiting: 1, kvCacheUsage: 0.5 },
    counters: { progress: null, preemptions: null, prefixCacheQueries: null, prefixCacheHits: null },
    version: null,
    inFlight: 4,
    capacity: 8,
    crashLoop: false,
    restartAt: null,
    lastFailure: null,
    lastColdStart: null,
    pid: 42,
    ...over,
  };
}

const parts: StateParts = { engine: engine(), draining: false, providerInfo: undefined, interruption: null, launches: [], fenced: [], suspects: undefined, scale: undefined, apiUrl: 'http://127.0.0.1:1', agentVersion: '0.0.0' };

describe('the gossiped state body', () => {
  it('a node without an engine serves nothing and says so; one without a provider is static', () => {
    const body = stateBodyOf({ ...parts, engine: undefined });
    assert.deepEqual(body.engine, { state: 'stopped', models: [], inStateMs: 0 });
    assert.deepEqual(body.load, { running: null, waiting: null, kvCacheUsage: null, inFlight: 0, capacity: 1 });
    assert.equal(body.provider.kind, 'static');
    assert.equal('suspects' in body || 'scale' in body, false, 'absent parts are left out, not sent as undefined');
  });

  it('an engine draining on its own marks the node draining, like the agent draining', () => {
    assert.equal(stateBodyOf(parts).draining, false);
    assert.equal(stateBodyOf({ ...parts, engine: engine({ state: 'draining' }) }).draining, true);
    assert.equal(stateBodyOf({ ...parts, draining: true }).draining, true);
  });

  it('reports whole milliseconds in state, the version when known, and a KV-cache share within 0..1', () => {
    const body = stateBodyOf({ ...parts, engine: engine({ version: '0.11.0', inStateMs: -3 }) });
    assert.deepEqual(body.engine, { state: 'warm', models: ['m'], inStateMs: 0, version: '0.11.0' });
    assert.equal(stateBodyOf(parts).engine.inStateMs, 1235);
    assert.equal(loadOf(engine({ load: { running: 1, waiting: 0, kvCacheUsage: 1.7 } })).kvCacheUsage, 1);
    assert.equal(loadOf(engine({ load: { running: 1, waiting: 0, kvCacheUsage: -0.2 } })).kvCacheUsage, 0);
    assert.deepEqual(loadOf(engine()), { running: 3, waiting: 1, kvCacheUsage: 0.5, inFlight: 4, capacity: 8 });
  });
});

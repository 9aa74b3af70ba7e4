import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeNodeState, encodeNodeState, MAX_STATE_MESSAGE_BYTES, sampleNodeState } from './index.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('NodeState codec', () => {
  it('round-trips a valid state', () => {
    const state = sampleNodeState({ seq: 7, interruption: { kind: 'terminate', deadline: 120_000, noticedAt: 0 } });
    const decoded = decodeNodeState(encodeNodeState(state));
    assert.deepEqual(decoded, { ok: true, state });
  });

  it('rejects non-JSON, non-objects and other versions with a reason', () => {
    assert.deepEqual(decodeNodeState(bytes('{nope')), { ok: false, reason: 'not UTF-8 JSON' });
    assert.deepEqual(decodeNodeState(bytes('42')), { ok: false, reason: 'not a JSON object' });
    const v2 = decodeNodeState(bytes(JSON.stringify({ ...sampleNodeState(), v: 2 })));
    assert.equal(v2.ok, false);
    assert.match((v2 as { reason: string }).reason, /unsupported protocol version 2/);
  });

  it('names the failing field', () => {
    const bad = decodeNodeState(bytes(JSON.stringify({ ...sampleNodeState(), seq: -1 })));
    assert.equal(bad.ok, false);
    assert.match((bad as { reason: string }).reason, /^invalid field seq/);
    const engine = decodeNodeState(bytes(JSON.stringify({ ...sampleNodeState(), engine: { state: 'melting', models: [], inStateMs: 0 } })));
    assert.match((engine as { reason: string }).reason, /^invalid field engine\.state/);
  });

  it('rejects oversized messages before parsing', () => {
    const big = new Uint8Array(MAX_STATE_MESSAGE_BYTES + 1);
    const result = decodeNodeState(big);
    assert.equal(result.ok, false);
    assert.match((result as { reason: string }).reason, /exceeds/);
  });

  it('refuses to encode an invalid state', () => {
    assert.throws(() => encodeNodeState({ ...sampleNodeState(), fleet: '' }));
  });
});

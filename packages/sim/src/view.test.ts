import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRng } from '@synkti/interface';
import type { LaunchRecord } from '@synkti/fleet';
import { deletePeer, deriveView, setPeer } from './view.js';
import { emptyView, type SideView, type ViewEntry } from './world.js';

/** The derivation from scratch, as the simulator did it before deriving by delta. */
function fromScratch(view: SideView) {
  const entries = [...view.peers.values()];
  const counted = entries.map((e) => e.facts).filter((f) => f.alive && f.interrupted === null && !f.draining).map((f) => f.peerId).sort();
  return {
    peers: entries.map((e) => e.facts),
    surplusPeers: entries.map((e) => e.surplus),
    launches: entries.flatMap((e) => e.records),
    lowest: counted[0] ?? null,
    second: counted[1] ?? null,
    atRisk: entries.filter((e) => e.facts.alive && !e.facts.draining && e.facts.interrupted === 'rebalance').length,
  };
}

function entry(rng: () => number, peerId: string): ViewEntry {
  const alive = rng() < 0.8;
  const interrupted = rng() < 0.2 ? (rng() < 0.5 ? ('rebalance' as const) : ('terminate' as const)) : null;
  const draining = rng() < 0.1;
  const records: LaunchRecord[] = rng() < 0.2 ? [{ token: `t-${peerId}-${Math.floor(rng() * 3)}`, slot: '1', startedAt: 0, generation: 0, replaces: null, placementIndex: 0, launcher: peerId }] : [];
  return {
    facts: { peerId, alive, interrupted, draining, slot: '1', instanceId: `i-${peerId}`, incarnation: 0 },
    surplus: { peerId, alive, interrupted, noticedAt: 0, draining, warm: true, slot: '1' },
    warm: true,
    noticedAt: 0,
    records,
    seq: 0,
  };
}

describe('side view derivation by delta', () => {
  it('matches a derivation from scratch through random sets and deletions', () => {
    const rng = seededRng(11);
    const view = emptyView();
    for (let round = 0; round < 400; round++) {
      const changes = Math.floor(rng() * 6);
      for (let c = 0; c < changes; c++) {
        const id = `p${Math.floor(rng() * 40)}`;
        if (rng() < 0.25) deletePeer(view, id);
        else setPeer(view, id, entry(rng, id));
      }
      view.derived = deriveView(view);
      assert.deepEqual({ ...view.derived }, fromScratch(view), `round ${round}`);
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRng } from '@synkti/interface';
import { indexListing, type Listing } from './listing.js';
import { peerPass } from './peers.js';
import type { PeerFacts, ProviderInstance } from './types.js';

function facts(rng: () => number, peerId: string): PeerFacts {
  const r = rng();
  // Slots crowd a few values (contested), some out of range or missing.
  const slot = r < 0.1 ? null : r < 0.15 ? '99' : String(Math.floor(rng() * 12));
  return {
    peerId,
    alive: rng() < 0.85,
    interrupted: rng() < 0.1 ? 'rebalance' : null,
    draining: rng() < 0.05,
    slot,
    instanceId: rng() < 0.05 ? null : rng() < 0.05 ? 'i-shared' : `i-${peerId}-${Math.floor(rng() * 3)}`,
    incarnation: 0,
  };
}

/** The pass's content, comparable (its arrays are views into the memo). */
function plain(peers: readonly PeerFacts[], target: number) {
  const { running: _running, runningAs: _runningAs, mismatched: _mismatched, ...p } = peerPass(peers, target);
  return { ...p, uncounted: [...p.uncounted], seats: { kind: [...p.seats.kind], id: [...p.seats.id], instance: [...p.seats.instance], loose: [...p.seats.loose] } };
}

describe('peer pass', () => {
  it('updated by the entries that changed, left or came equals the pass computed afresh', () => {
    const rng = seededRng(5);
    let target = 10;
    const peers: PeerFacts[] = Array.from({ length: 30 }, (_, i) => facts(rng, `p${String(i).padStart(2, '0')}`));
    let listing: Listing | null = null;
    for (let round = 0; round < 2000; round++) {
      const changes = rng() < 0.05 ? 80 : Math.floor(rng() * 5);
      for (let c = 0; c < changes; c++) {
        const i = Math.floor(rng() * peers.length);
        // Mostly the same peer's new state; now and then another peer in its place.
        peers[i] = facts(rng, rng() < 0.9 ? peers[i]!.peerId : `q${Math.floor(rng() * 1000)}`);
      }
      // Departures close up, arrivals go last or anywhere (a view with another order).
      for (let k = Math.floor(rng() * 3); k > 0 && peers.length > 5; k--) if (rng() < 0.3) peers.splice(Math.floor(rng() * peers.length), 1);
      for (let k = Math.floor(rng() * 3); k > 0; k--) if (rng() < 0.3) peers.splice(rng() < 0.5 ? peers.length : Math.floor(rng() * peers.length), 0, facts(rng, `r${round}-${k}`));
      if (rng() < 0.02) target = 8 + Math.floor(rng() * 6);
      const unique = new Set(peers.map((p) => p.peerId)).size === peers.length;
      if (!unique) continue; // a view holds each peer once
      assert.deepEqual(plain(peers, target), plain(peers.slice(), target), `round ${round}`);
      const counted = peers.filter((p) => p.alive && p.interrupted === null && !p.draining).map((p) => p.peerId).sort();
      const pass = peerPass(peers, target);
      assert.equal(pass.launcher, counted[0] ?? null);
      assert.equal(pass.backup, counted[1] ?? null);
      assert.equal(pass.aliveCount, peers.filter((p) => p.alive).length);
      // A listing kept over several rounds: the mismatched seats are kept as seats change.
      if (listing === null || listing.head.length !== target || rng() < 0.1) {
        const list: ProviderInstance[] = peers.filter(() => rng() < 0.8).map((p) => ({ instanceId: rng() < 0.8 ? (p.instanceId ?? 'i-x') : 'i-other', slot: p.slot }));
        listing = indexListing(list, target);
      }
      const seats = plain(peers, target).seats;
      const expected = new Set<number>();
      for (let i = 0; i < target; i++) {
        if (seats.kind[i] !== 1) continue;
        for (let k = listing.head[i]!; k >= 0; k = listing.next[k]!) if (listing.ids[k] !== seats.instance[i]) expected.add(i);
      }
      assert.deepEqual([...pass.mismatched(listing)].sort((a, b) => a - b), [...expected].sort((a, b) => a - b));
      // Asked now and then, so the instance index is kept by delta between questions too.
      if (rng() < 0.3) {
        for (const id of new Set(peers.map((p) => p.instanceId))) {
          if (id === null) continue;
          const running = peers.filter((p) => p.instanceId === id && p.alive && p.interrupted === null && !p.draining);
          const other = peers.filter((p) => p.instanceId === id && !(p.alive && p.interrupted === null && !p.draining));
          assert.equal(pass.running(id), true);
          assert.equal(pass.runningAs(id, true), running.length > 1 ? null : running[0]);
          assert.equal(pass.runningAs(id, false), other.length > 1 ? null : other[0]);
        }
        assert.equal(pass.running('i-none'), false);
      }
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { planReplacement } from './plan.js';
import type { LaunchRecord, PeerFacts, Placement, ProviderInstance, ReplacementInput } from './types.js';

const placements: Placement[] = [
  { instanceType: 'g5.xlarge', subnet: 'subnet-a' },
  { instanceType: 'g6.xlarge', subnet: 'subnet-b' },
];
const TIMEOUT = 600_000;
const NOW = 10_000_000;

/** Shared facts of a fleet: who holds which slot, what was launched. Views differ only in liveness. */
interface Facts {
  target: number;
  peers: PeerFacts[];
  launches: LaunchRecord[];
}

const factsArb: fc.Arbitrary<Facts> = fc
  .record({
    target: fc.integer({ min: 1, max: 9 }),
    n: fc.integer({ min: 1, max: 11 }),
    seedFlags: fc.array(fc.tuple(fc.boolean(), fc.constantFrom(null, 'terminate', 'rebalance'), fc.integer({ min: -1, max: 10 })), {
      minLength: 11,
      maxLength: 11,
    }),
    timedOut: fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 2 })), { maxLength: 3 }),
  })
  .map(({ target, n, seedFlags, timedOut }) => {
    const peers: PeerFacts[] = [];
    for (let i = 0; i < n; i++) {
      const [alive, interrupted, slot] = seedFlags[i]!;
      peers.push({
        peerId: `p${String(i).padStart(2, '0')}`,
        alive,
        interrupted: interrupted as PeerFacts['interrupted'],
        draining: false,
        slot: slot < 0 ? null : String(slot),
        instanceId: `i-${i}`,
        incarnation: i,
      });
    }
    // Timed-out launches gossiped earlier: they fix the next generation for their slot.
    const launches: LaunchRecord[] = timedOut.map(([slot, generation]) => ({
      token: `old-${slot}-${generation}`,
      slot: String(slot),
      startedAt: NOW - 2 * TIMEOUT,
      generation,
      replaces: null,
      placementIndex: 0,
      launcher: 'p00',
    }));
    return { target, peers, launches };
  });

function view(facts: Facts, self: string, alive: (p: PeerFacts) => boolean, over: Partial<ReplacementInput> = {}): ReplacementInput {
  return {
    self,
    fleet: 'prop',
    target: facts.target,
    peers: facts.peers.map((p) => (p.peerId === self ? { ...p, alive: true } : { ...p, alive: alive(p) })),
    launches: facts.launches,
    providerCount: null,
    placements,
    launchTimeoutMs: TIMEOUT,
    now: NOW,
    ...over,
  };
}

describe('replacement rule properties', () => {
  it('views that share the facts give one token per slot: duelling launchers launch one instance', () => {
    fc.assert(
      fc.property(factsArb, fc.array(fc.array(fc.boolean(), { minLength: 11, maxLength: 11 }), { minLength: 2, maxLength: 4 }), (facts, livenessSets) => {
        const provider = new Map<string, string>(); // token -> slot (an idempotent provider)
        const tokensBySlot = new Map<string, Set<string>>();
        livenessSets.forEach((liveness, v) => {
          const self = facts.peers[v % facts.peers.length]!.peerId;
          const plan = planReplacement(
            view(facts, self, (p) => liveness[Number(p.peerId.slice(1))]!, { assumeLauncher: true, providerCount: 0 }),
          );
          for (const d of plan.launches) {
            const set = tokensBySlot.get(d.slot) ?? new Set();
            set.add(d.token);
            tokensBySlot.set(d.slot, set);
            provider.set(d.token, d.slot);
            assert.ok(d.attempts.every((a) => a.token.length <= 64 && /^[\x21-\x7e]+$/.test(a.token)));
            assert.equal(new Set(d.attempts.map((a) => a.token)).size, d.attempts.length);
          }
        });
        for (const [slot, tokens] of tokensBySlot) assert.equal(tokens.size, 1, `slot ${slot} got ${[...tokens]}`);
      }),
      { numRuns: 300 },
    );
  });

  it('a minority side of a partition launches nothing unless the provider confirms the deficit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 15 }), fc.nat(), fc.integer({ min: 0, max: 3 }), (target, cut, lost) => {
        const all: PeerFacts[] = Array.from({ length: target }, (_, i) => ({
          peerId: `p${String(i).padStart(2, '0')}`,
          alive: true,
          interrupted: null,
          draining: false,
          slot: String(i),
          instanceId: `i-${i}`,
          incarnation: 0,
        }));
        const minoritySize = 1 + (cut % Math.floor(target / 2 + 0.5));
        if (minoritySize > target / 2) return;
        const minority = new Set(all.slice(0, minoritySize).map((p) => p.peerId));
        const running = target - Math.min(lost, target - minoritySize);
        for (const p of all) {
          if (!minority.has(p.peerId)) continue;
          const base: Omit<ReplacementInput, 'self'> = {
            fleet: 'prop',
            target,
            peers: all.map((q) => ({ ...q, alive: minority.has(q.peerId) })),
            launches: [],
            providerCount: target,
            placements,
            launchTimeoutMs: TIMEOUT,
            now: NOW,
          };
          assert.equal(planReplacement({ ...base, self: p.peerId }).launches.length, 0);
          // The provider confirms `target - running` lost instances (outside the minority): at most that many launch.
          const lostSlots = all.slice(running).map((q) => q.slot!);
          const present = all.filter((q) => !lostSlots.includes(q.slot!)).map((q) => ({ instanceId: q.instanceId!, slot: q.slot }));
          const confirmed = planReplacement({ ...base, self: p.peerId, providerCount: running, providerSlots: present });
          assert.ok(confirmed.launches.length <= target - running);
          assert.ok(confirmed.launches.every((l) => lostSlots.includes(l.slot)));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the majority side, a lone survivor and a single first node all restore the target', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 20 }), fc.boolean(), (target, survivorsRaw, slotted) => {
        const survivors = Math.min(survivorsRaw, target);
        let peers: PeerFacts[] = Array.from({ length: survivors }, (_, i) => ({
          peerId: `p${String(i).padStart(2, '0')}`,
          alive: true,
          interrupted: null,
          draining: false,
          slot: slotted ? String(target - 1 - i) : null,
          instanceId: `i-${i}`,
          incarnation: 0,
        }));
        const provider = new Set<string>();
        for (let round = 0; round < 3; round++) {
          const plan = planReplacement({
            self: 'p00',
            fleet: 'prop',
            target,
            peers,
            launches: [],
            providerCount: peers.length,
            placements,
            launchTimeoutMs: TIMEOUT,
            now: NOW,
          });
          for (const d of plan.launches) {
            assert.ok(!provider.has(d.token));
            provider.add(d.token);
            peers = [...peers, { peerId: `q${d.slot.padStart(3, '0')}`, alive: true, interrupted: null, draining: false, slot: d.slot, instanceId: `i-new-${d.slot}`, incarnation: 1 }];
          }
        }
        assert.equal(peers.length, target);
      }),
      { numRuns: 200 },
    );
  });
  it('never launches into a slot the provider lists as held: every listed instance there is noticed, draining or fenced', () => {
    fc.assert(
      fc.property(
        factsArb,
        fc.array(fc.boolean(), { minLength: 11, maxLength: 11 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.boolean(), fc.integer({ min: 0, max: 2 * TIMEOUT })), { maxLength: 4 }),
        fc.boolean(),
        (facts, liveness, strays, remembered) => {
          // The provider lists every peer's instance (alive or not: a frozen or cut-off agent still runs) and some strays.
          const listing: ProviderInstance[] = facts.peers.filter((p) => p.slot !== null).map((p) => ({ instanceId: p.instanceId!, slot: p.slot }));
          for (const [k, [slot, dated, age]] of strays.entries()) {
            listing.push({ instanceId: `i-stray${k}`, slot: String(slot), launchedAt: dated ? NOW - age : null });
          }
          const memory = new Map<string, { instanceId: string; incarnation: number }>();
          if (remembered) for (const p of facts.peers) if (p.slot !== null) memory.set(p.slot, { instanceId: p.instanceId!, incarnation: p.incarnation });
          const self = facts.peers[0]!.peerId;
          const input = view(facts, self, (p) => liveness[Number(p.peerId.slice(1))]!, { providerCount: 0, providerSlots: listing, memory, assumeLauncher: true });
          const plan = planReplacement(input);
          const byId = new Map(input.peers.map((p) => [p.instanceId!, p]));
          const seated = new Set(input.peers.filter((p) => p.alive && p.interrupted === null && !p.draining).map((p) => p.slot));
          for (const d of plan.launches) {
            for (const inst of listing.filter((i) => i.slot === d.slot)) {
              const peer = byId.get(inst.instanceId);
              const lost = peer !== undefined && (peer.interrupted !== null || peer.draining);
              assert.ok(lost || d.fence.includes(inst.instanceId), `slot ${d.slot}: launched over ${inst.instanceId}`);
              if (d.fence.includes(inst.instanceId)) assert.equal(peer, undefined, 'only agents gone from the view are fenced');
            }
            if (d.fence.length > 0) assert.ok(seated.size > facts.target / 2 || plan.quorum, 'fencing needs a quorum');
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

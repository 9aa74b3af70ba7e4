import type { InterruptionKind } from '@synkti/protocol';

/** A peer as the surplus rule sees it. */
export interface SurplusPeer {
  peerId: string;
  alive: boolean;
  interrupted: InterruptionKind | null;
  /** When the notice was seen (epoch ms); ignored when `interrupted` is null. */
  noticedAt: number;
  draining: boolean;
  warm: boolean;
  /** The slot it declares; absent or null when unknown (a node started by hand). */
  slot?: string | null;
}

export interface SurplusInput {
  target: number;
  peers: readonly SurplusPeer[];
  now: number;
  rebalanceWindowMs: number;
}

export type SurplusDecision =
  | { kind: 'drain'; peerId: string; reason: 'replaced-at-risk' | 'rebalance-window' | 'surplus' }
  | { kind: 'keep'; reason: 'at-target' }
  /** `windowEndsAt`: when the earliest at-risk peer's rebalance window ends (it may drain then). */
  | { kind: 'keep'; reason: 'replacement-not-warm'; windowEndsAt: number };

/**
 * Who drains when the fleet has more than it needs (design §3, Interruption). Every peer
 * computes the same answer from the same view; the named peer drains itself. One node per
 * evaluation, so the fleet steps down one at a time and re-checks.
 *
 * - A rebalance-recommended node counts as lost at once (its replacement starts while it still
 *   serves). When warm peers without a notice reach the target, it is replaced: it drains,
 *   earliest notice first.
 * - If its replacement is not warm yet but the window passed and the fleet, counting it, is
 *   above target, it drains anyway (highest risk first).
 * - Otherwise, with more warm, unnoticed, non-draining peers than the target, one drains: a
 *   peer whose slot another such peer also holds, or whose slot is outside 0..target-1, first
 *   (draining a sole holder would free its slot, the rule would refill it and the fleet would
 *   be above target again — a launch per round); among those, or else among all, the highest
 *   peer ID (the lowest IDs stay: they are the launchers).
 */
export function planSurplus(input: SurplusInput): SurplusDecision {
  // One pass, no copies: every agent runs this every heartbeat over the whole view.
  let healthy = 0;
  let warm = 0;
  let atRisk = 0;
  let first: SurplusPeer | undefined;
  for (const p of input.peers) {
    if (!p.alive || p.draining) continue;
    if (p.interrupted === null) {
      healthy++;
      if (p.warm) warm++;
    } else if (p.interrupted === 'rebalance') {
      atRisk++;
      if (first === undefined || p.noticedAt < first.noticedAt || (p.noticedAt === first.noticedAt && p.peerId < first.peerId)) first = p;
    }
  }
  if (first !== undefined) {
    if (warm >= input.target) return { kind: 'drain', peerId: first.peerId, reason: 'replaced-at-risk' };
    const overdue = input.now - first.noticedAt >= input.rebalanceWindowMs;
    if (overdue && healthy + atRisk > input.target) return { kind: 'drain', peerId: first.peerId, reason: 'rebalance-window' };
    return { kind: 'keep', reason: 'replacement-not-warm', windowEndsAt: first.noticedAt + input.rebalanceWindowMs };
  }
  if (warm > input.target) {
    const warmPeers = input.peers.filter((p) => p.alive && !p.draining && p.interrupted === null && p.warm);
    return { kind: 'drain', peerId: surplusCandidate(warmPeers, input.target), reason: 'surplus' };
  }
  return { kind: 'keep', reason: 'at-target' };
}

/** The highest peer ID among the extras (shared or out-of-range slots), or among all when there are none. */
function surplusCandidate(warm: readonly SurplusPeer[], target: number): string {
  const holders = new Map<string, number>();
  for (const p of warm) if (p.slot != null) holders.set(p.slot, (holders.get(p.slot) ?? 0) + 1);
  const extra = (p: SurplusPeer) => {
    if (p.slot == null) return false;
    const i = Number(p.slot);
    return holders.get(p.slot)! > 1 || !Number.isInteger(i) || i < 0 || i >= target;
  };
  const pool = warm.some(extra) ? warm.filter(extra) : warm;
  let highest = '';
  for (const p of pool) if (p.peerId > highest) highest = p.peerId;
  return highest;
}

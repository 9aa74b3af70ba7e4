import type { SimConfig } from './config.js';
import { CUT_OFF_NOTICED_WITHIN_MS, PROVIDER_REFRESH_MS } from './constants.js';
import { runSimulation } from './simulate.js';

/** A hostile small fleet for seed sweeps: frequent partitions, reclaim waves, boot failures, duels. */
export function sweepConfig(seed: number): Partial<SimConfig> {
  return {
    seed,
    nodes: 3 + (seed % 13),
    hours: 8,
    policy: 'fallback',
    hazardPerHour: 0.1,
    partitionRatePerHour: 1.5,
    partitionMeanMs: 10 * 60_000,
    waveRatePerHour: 0.2,
    waveShare: 0.5,
    bootFailureShare: 0.05,
    duelShare: 0.5,
    // Clocks seconds apart (a broken NTP), far beyond what EC2's time sync allows.
    clockSkewMs: 2_000,
    traffic: 'fluid',
  };
}

export interface SweepOutcome {
  runs: number;
  partitions: number;
  preemptions: number;
  replacements: number;
  idempotentHits: number;
  worstRestoreMs: number;
  violations: string[];
}

/**
 * Runs `count` seeds from `first` and checks the fleet-level invariants on the real rule:
 * no slot launched twice by different tokens, no healthy agent fenced that its fencer could reach, no token reused with other parameters, no
 * minority launch without the provider's word, and — partitions healed — the provisioned
 * target restored within the launch timeout (plus one recheck and detection).
 */
export function sweepSeeds(first: number, count: number): SweepOutcome {
  const out: SweepOutcome = { runs: 0, partitions: 0, preemptions: 0, replacements: 0, idempotentHits: 0, worstRestoreMs: 0, violations: [] };
  for (let seed = first; seed < first + count; seed++) {
    const config = sweepConfig(seed);
    const r = runSimulation(config);
    const bound = r.config.launchTimeoutMs + PROVIDER_REFRESH_MS + CUT_OFF_NOTICED_WITHIN_MS + 10_000;
    out.runs++;
    out.partitions += r.partitions;
    out.preemptions += r.preemptions;
    out.replacements += r.replacements;
    out.idempotentHits += r.idempotentHits;
    out.worstRestoreMs = Math.max(out.worstRestoreMs, r.maxRestoreMs);
    if (r.doubleLaunches > 0) out.violations.push(`seed ${seed}: ${r.doubleLaunches} double launches`);
    if (r.mismatches > 0) out.violations.push(`seed ${seed}: ${r.mismatches} token reuses with other parameters`);
    if (r.falseFencings > 0) out.violations.push(`seed ${seed}: ${r.falseFencings} healthy reachable agents fenced`);
    if (r.minorityLaunchesWithoutWitness > 0) out.violations.push(`seed ${seed}: minority launched ${r.minorityLaunchesWithoutWitness} without witness`);
    if (r.maxRestoreMs > bound) out.violations.push(`seed ${seed}: target restored after ${r.maxRestoreMs} ms > ${bound} ms`);
  }
  return out;
}

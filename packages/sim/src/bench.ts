import { performance } from 'node:perf_hooks';
import { runSimulation } from './simulate.js';
import { sweepSeeds } from './sweep.js';

/** `npm run bench -- sim`: 1,000 nodes × 72 simulated hours, then the 2,000-seed invariant sweep. */
export async function benchSim(): Promise<string> {
  const lines: string[] = ['sim bench (wall-clock on this machine)'];
  for (const policy of ['fallback', 'greedy'] as const) {
    const t0 = performance.now();
    const r = runSimulation({ nodes: 1000, hours: 72, seed: 1, policy });
    const ms = performance.now() - t0;
    lines.push(
      `  1000 nodes × 72 h, ${policy}: ${(ms / 1000).toFixed(2)} s wall (target < 10 s) — ${r.events} events, ${r.evaluations} rule evaluations, ` +
        `${r.preemptions} preemptions, ${r.replacements} replacements, ${r.doubleLaunches} double launches, success ${(r.requests.successRate * 100).toFixed(3)} %, savings ${(r.savings * 100).toFixed(1)} %`,
    );
  }
  const t1 = performance.now();
  const sweep = sweepSeeds(1, 2000);
  const sweepMs = performance.now() - t1;
  lines.push(
    `  2000-seed sweep: ${(sweepMs / 1000).toFixed(1)} s wall — ${sweep.partitions} partitions, ${sweep.preemptions} preemptions, ${sweep.replacements} replacements, ` +
      `${sweep.idempotentHits} idempotent repeats absorbed, worst restore ${(sweep.worstRestoreMs / 1000).toFixed(1)} s, violations ${sweep.violations.length}`,
  );
  for (const v of sweep.violations.slice(0, 10)) lines.push(`    ${v}`);
  return lines.join('\n');
}

import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { runSimulation } from './simulate.js';
import { sweepConfig, sweepSeeds } from './sweep.js';

export interface BenchSimOptions {
  /** Runs of each 1,000-node case (best and median are reported; the machine may be shared). */
  repeat?: number;
  /** Seeds in the invariant sweep. */
  seeds?: number;
}

/** `npm run bench -- sim`: 1,000 nodes × 72 simulated hours per policy, then the 2,000-seed invariant sweep. */
export async function benchSim(options: BenchSimOptions = {}): Promise<string> {
  const repeat = Math.max(1, options.repeat ?? 3);
  const seeds = Math.max(1, options.seeds ?? 2000);
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const lines: string[] = [
    `sim bench (wall-clock on this machine: ${cpus().length} × ${cpu}, Node ${process.version}, load average ${fmtLoad()} at start)`,
  ];
  for (const policy of ['fallback', 'greedy'] as const) {
    const times: number[] = [];
    let r: ReturnType<typeof runSimulation> | undefined;
    for (let k = 0; k < repeat; k++) {
      const t0 = performance.now();
      r = runSimulation({ nodes: 1000, hours: 72, seed: 1, policy });
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
    lines.push(
      `  1000 nodes × 72 h, ${policy}: best ${s(times[0]!)}, median ${s(times[Math.floor(times.length / 2)]!)} of ${repeat} (target < 10 s: ${times[0]! < 10_000 ? 'met' : 'MISSED'}) — ` +
        `${r!.events} events, ${r!.evaluations} rule evaluations, ${r!.preemptions} preemptions, ${r!.replacements} replacements, ` +
        `${r!.doubleLaunches} double launches, success ${(r!.requests.successRate * 100).toFixed(3)} %, savings ${(r!.savings * 100).toFixed(1)} %`,
    );
  }
  const t1 = performance.now();
  const sweep = sweepSeeds(1, seeds);
  const sweepMs = performance.now() - t1;
  lines.push(
    `  ${seeds}-seed sweep (the fleet core on clocks up to ±${sweepConfig(1).clockSkewMs} ms apart): ${(sweepMs / 1000).toFixed(1)} s wall — ${sweep.partitions} partitions, ${sweep.preemptions} preemptions, ${sweep.replacements} replacements, ` +
      `${sweep.idempotentHits} idempotent repeats absorbed, worst restore ${(sweep.worstRestoreMs / 1000).toFixed(1)} s, violations ${sweep.violations.length}`,
  );
  for (const v of sweep.violations.slice(0, 20)) lines.push(`    ${v}`);
  lines.push(`  load average at end ${fmtLoad()}`);
  return lines.join('\n');
}

function fmtLoad(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
}

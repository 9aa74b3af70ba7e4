import { parseArgs } from 'node:util';
import { benchSim } from '@synkti/sim';

/**
 * `npm run bench -- sim [--repeat 3] [--seeds 2000]`: 1,000 nodes × 72 simulated hours per
 * policy (best and median wall time of `repeat` runs; target < 10 s), then the invariant sweep
 * over `seeds` hostile seeds (double launches, token reuse, minority launches, restore bound).
 */
export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { repeat: { type: 'string' }, seeds: { type: 'string' } } });
  const repeat = values.repeat === undefined ? undefined : Number(values.repeat);
  const seeds = values.seeds === undefined ? undefined : Number(values.seeds);
  console.log(await benchSim({ ...(repeat === undefined ? {} : { repeat }), ...(seeds === undefined ? {} : { seeds }) }));
}

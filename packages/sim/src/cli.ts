import { parseArgs } from 'node:util';
import { POLICY_NAMES, type PolicyName, type SimConfig, type TrafficMode } from './config.js';
import { SimConfigError } from './errors.js';
import { writeReport } from './html-file.js';
import { renderHtml } from './report/html.js';
import { renderSeedStudy, renderTable, SEED_STUDY_NOTES } from './report/table.js';
import type { SimResult } from './result.js';
import { runSimulation } from './simulate.js';
import { runSeedStudy, type SeedStudyRow } from './study/seed-phase1.js';

export const SIM_USAGE = `usage: synkti sim [--nodes N] [--hours H] [--seed S] [--policy greedy|fallback|mixed|on-demand|all]
                 [--anchors K] [--hazard P] [--traffic auto|fluid|requests] [--study seed-phase1] [--json] [--html FILE]`;

/**
 * `synkti sim`: runs the policies (all by default) and prints a table, or JSON with --json;
 * --html writes a self-contained report; --study seed-phase1 runs the seed's cost study.
 * Bad input throws SimConfigError with a one-line message. Returns the exit code.
 */
export async function simMain(argv: string[], write: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  const opts = parse(argv);
  if (opts.help) {
    write(`${SIM_USAGE}\n`);
    return 0;
  }
  const results: SimResult[] = [];
  let study: SeedStudyRow[] | undefined;
  if (opts.study !== undefined) study = runSeedStudy(opts.base.seed ?? 1);
  if (opts.study === undefined || opts.alsoPolicies) {
    for (const policy of opts.policies) results.push(runSimulation({ ...opts.base, policy }));
  }
  if (opts.json) write(`${JSON.stringify(study === undefined ? { results } : { results, study }, null, 2)}\n`);
  else {
    if (results.length > 0) write(`${renderTable(results)}\n`);
    if (study !== undefined) write(`${renderSeedStudy(study)}\n\n${SEED_STUDY_NOTES.map((n) => `- ${n}`).join('\n')}\n`);
  }
  if (opts.html !== undefined) await writeReport(opts.html, renderHtml(results, study));
  const doubles = results.reduce((n, r) => n + r.doubleLaunches, 0);
  return doubles === 0 ? 0 : 1;
}

interface Parsed {
  help: boolean;
  base: Partial<SimConfig>;
  policies: PolicyName[];
  study: 'seed-phase1' | undefined;
  alsoPolicies: boolean;
  json: boolean;
  html: string | undefined;
}

function parse(argv: string[]): Parsed {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        nodes: { type: 'string' },
        hours: { type: 'string' },
        seed: { type: 'string' },
        policy: { type: 'string' },
        anchors: { type: 'string' },
        hazard: { type: 'string' },
        traffic: { type: 'string' },
        study: { type: 'string' },
        json: { type: 'boolean' },
        html: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new SimConfigError(`synkti sim: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const num = (name: string): number | undefined => {
    const raw = values[name];
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n)) throw new SimConfigError(`synkti sim: --${name} must be a number, got '${String(raw)}'`);
    return n;
  };
  const base: Partial<SimConfig> = {};
  const set = <K extends keyof SimConfig>(k: K, v: SimConfig[K] | undefined): void => {
    if (v !== undefined) base[k] = v;
  };
  set('nodes', num('nodes'));
  set('hours', num('hours'));
  set('seed', num('seed'));
  set('anchors', num('anchors'));
  set('hazardPerHour', num('hazard'));
  const traffic = values['traffic'];
  if (traffic !== undefined && !['auto', 'fluid', 'requests'].includes(String(traffic))) throw new SimConfigError(`synkti sim: --traffic must be auto, fluid or requests, got '${String(traffic)}'`);
  set('traffic', traffic as TrafficMode | undefined);
  const policy = String(values['policy'] ?? 'all');
  if (policy !== 'all' && !POLICY_NAMES.includes(policy as PolicyName)) throw new SimConfigError(`synkti sim: --policy must be one of ${POLICY_NAMES.join(', ')} or all, got '${policy}'`);
  const study = values['study'];
  if (study !== undefined && study !== 'seed-phase1') throw new SimConfigError(`synkti sim: --study must be seed-phase1, got '${String(study)}'`);
  return {
    help: values['help'] === true,
    base,
    policies: policy === 'all' ? [...POLICY_NAMES] : [policy as PolicyName],
    study: study as 'seed-phase1' | undefined,
    alsoPolicies: values['policy'] !== undefined,
    json: values['json'] === true,
    html: values['html'] as string | undefined,
  };
}

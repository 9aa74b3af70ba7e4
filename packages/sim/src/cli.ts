import { parseArgs } from 'node:util';
import { type PlacementOrder, POLICY_NAMES, type PolicyName, type SimConfig, TRAFFIC_SHAPES, type TrafficMode, type TrafficShape } from './config.js';
import { SimConfigError } from './errors.js';
import { writeReport } from './html-file.js';
import { renderHtml } from './report/html.js';
import { renderSeedStudy, renderTable, SEED_STUDY_NOTES } from './report/table.js';
import type { SimResult } from './result.js';
import { runSimulation } from './simulate.js';
import { type AutoscaleStudy, renderAutoscaleStudy, runAutoscaleStudy } from './study/autoscale.js';
import { runSeedStudy, type SeedStudyRow } from './study/seed-phase1.js';

export const SIM_USAGE = `usage: synkti sim [--nodes N] [--hours H] [--seed S] [--policy greedy|fallback|mixed|on-demand|all]
                 [--anchors K] [--hazard P] [--traffic constant|diurnal|bursty|step] [--traffic-model auto|fluid|requests]
                 [--autoscale [--min-nodes N] [--target-utilization U]] [--placement price|spread]
                 [--spot-price USD] [--on-demand-price USD] [--study seed-phase1|autoscale] [--json] [--html FILE]
  --nodes is the fleet sized for peak (the autoscaler's ceiling); --autoscale also runs the fixed fleet for comparison.`;

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
  if (opts.study === 'seed-phase1') study = runSeedStudy(opts.base.seed ?? 1);
  let autoscaleStudy: AutoscaleStudy | undefined;
  if (opts.study === 'autoscale') autoscaleStudy = runAutoscaleStudy(opts.base);
  if (opts.study === undefined || opts.alsoPolicies) {
    for (const policy of opts.policies) {
      results.push(runSimulation({ ...opts.base, policy }));
      // The same load on the fleet sized for peak: what autoscaling saves beyond spot alone.
      if (opts.base.autoscale === true) results.push(runSimulation({ ...opts.base, policy, autoscale: false }));
    }
  }
  if (opts.json) write(`${JSON.stringify({ results, ...(study === undefined ? {} : { study }), ...(autoscaleStudy === undefined ? {} : { autoscaleStudy }) }, null, 2)}\n`);
  else {
    if (results.length > 0) write(`${renderTable(results)}\n`);
    if (autoscaleStudy !== undefined) write(`${renderAutoscaleStudy(autoscaleStudy)}\n`);
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
  study: 'seed-phase1' | 'autoscale' | undefined;
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
        'traffic-model': { type: 'string' },
        autoscale: { type: 'boolean' },
        'min-nodes': { type: 'string' },
        'target-utilization': { type: 'string' },
        placement: { type: 'string' },
        'spot-price': { type: 'string' },
        'on-demand-price': { type: 'string' },
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
  set('minNodes', num('min-nodes'));
  set('targetUtilization', num('target-utilization'));
  set('spotPricePerHour', num('spot-price'));
  set('onDemandPricePerHour', num('on-demand-price'));
  if (values['autoscale'] === true) set('autoscale', true);
  const models = ['auto', 'fluid', 'requests'];
  const traffic = values['traffic'] === undefined ? undefined : String(values['traffic']);
  const model = values['traffic-model'] === undefined ? undefined : String(values['traffic-model']);
  // --traffic auto|fluid|requests is the older spelling of --traffic-model and still works.
  const modelFromTraffic = traffic !== undefined && models.includes(traffic) ? traffic : undefined;
  if (traffic !== undefined && modelFromTraffic === undefined && !TRAFFIC_SHAPES.includes(traffic as TrafficShape)) {
    throw new SimConfigError(`synkti sim: --traffic must be one of ${TRAFFIC_SHAPES.join(', ')} (or a model: ${models.join(', ')}), got '${traffic}'`);
  }
  if (model !== undefined && !models.includes(model)) throw new SimConfigError(`synkti sim: --traffic-model must be one of ${models.join(', ')}, got '${model}'`);
  set('traffic', (model ?? modelFromTraffic) as TrafficMode | undefined);
  if (modelFromTraffic === undefined) set('trafficShape', traffic as TrafficShape | undefined);
  const placement = values['placement'];
  if (placement !== undefined && placement !== 'price' && placement !== 'spread') throw new SimConfigError(`synkti sim: --placement must be price or spread, got '${String(placement)}'`);
  set('placementOrder', placement as PlacementOrder | undefined);
  const policy = String(values['policy'] ?? 'all');
  if (policy !== 'all' && !POLICY_NAMES.includes(policy as PolicyName)) throw new SimConfigError(`synkti sim: --policy must be one of ${POLICY_NAMES.join(', ')} or all, got '${policy}'`);
  const study = values['study'];
  if (study !== undefined && study !== 'seed-phase1' && study !== 'autoscale') throw new SimConfigError(`synkti sim: --study must be seed-phase1 or autoscale, got '${String(study)}'`);
  return {
    help: values['help'] === true,
    base,
    policies: policy === 'all' ? [...POLICY_NAMES] : [policy as PolicyName],
    study: study as Parsed['study'],
    alsoPolicies: values['policy'] !== undefined,
    json: values['json'] === true,
    html: values['html'] as string | undefined,
  };
}

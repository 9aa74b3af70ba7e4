import type { SimConfig, TrafficShape } from '../config.js';
import type { SimResult } from '../result.js';
import { runSimulation } from '../simulate.js';

/** One run as the study reports it. */
export interface StudyPoint {
  label: string;
  costUsd: number;
  /** 1 − cost ÷ a fixed on-demand fleet sized for peak. */
  savings: number;
  successRate: number;
  p99QueueMs: number;
  /** Mean nodes billed (node-hours ÷ hours). */
  meanNodes: number;
  scaleOuts: number;
  scaleIns: number;
}

export interface AutoscaleStudy {
  config: { nodes: number; hours: number; seed: number; policy: string; shape: TrafficShape; spotPricePerHour: number; onDemandPricePerHour: number };
  /** Cost against success as the autoscaler's target utilisation moves, beside the two fixed fleets. */
  frontier: (StudyPoint & { targetUtilization: number | null })[];
  /** Savings against on-demand-for-peak at realistic spot discounts. */
  discounts: { discount: number; fixedSpot: StudyPoint; autoscaled: StudyPoint }[];
  /** Each trace, fixed for peak and autoscaled. */
  shapes: { shape: TrafficShape; fixedSpot: StudyPoint; autoscaled: StudyPoint }[];
  /** Mean spot price paid per node-hour by placement order, beside the markets' mean. */
  placement: { order: 'price' | 'spread'; paidSpotPerHour: number | null; meanSpotPerHour: number; costUsd: number }[];
}

/** What others report against on-demand, as they report it (their setups, not ours). */
export const PUBLISHED_SAVINGS = [
  { system: 'SkyServe', savings: 0.43, note: 'cost against on-demand replicas (Mao et al., SkyServe, 2024); their traces and prices' },
  { system: 'SpotServe', savings: 0.54, note: 'monetary cost against on-demand (Miao et al., SpotServe, ASPLOS 2024); their traces and prices' },
];

const UTILIZATIONS = [0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1];
const DISCOUNTS = [0.5, 0.6, 0.7];
const SHAPES: TrafficShape[] = ['constant', 'diurnal', 'bursty'];

function point(label: string, r: SimResult): StudyPoint {
  return {
    label,
    costUsd: r.costUsd,
    savings: r.savings,
    successRate: r.requests.successRate,
    p99QueueMs: r.requests.p99QueueMs,
    meanNodes: Math.round(((r.hours.spot + r.hours.onDemand) / r.config.hours) * 10) / 10,
    scaleOuts: r.scale.outs,
    scaleIns: r.scale.ins,
  };
}

/**
 * The autoscaling study behind docs/economics.md: a diurnal day (by default; `trafficShape`
 * overrides) on the seed's market, every run deterministic by seed. About 20 runs.
 */
export function runAutoscaleStudy(base: Partial<SimConfig>): AutoscaleStudy {
  // Cost-aware placement (cheapest pools first) unless the caller says otherwise: the study is about cost.
  const c: Partial<SimConfig> = { hours: 72, policy: 'fallback', trafficShape: 'diurnal', placementOrder: 'price', ...base };
  const run = (over: Partial<SimConfig>) => runSimulation({ ...c, ...over });
  const fixed = run({ autoscale: false });
  const frontier: AutoscaleStudy['frontier'] = [
    { ...point('on-demand, fixed for peak', run({ policy: 'on-demand', autoscale: false })), targetUtilization: null },
    { ...point('spot, fixed for peak', fixed), targetUtilization: null },
    ...UTILIZATIONS.map((u) => ({ ...point(`spot, autoscaled at ${Math.round(u * 100)} %`, run({ autoscale: true, targetUtilization: u })), targetUtilization: u })),
  ];
  const od = fixed.config.onDemandPricePerHour;
  const discounts = DISCOUNTS.map((d) => {
    const spotPricePerHour = Math.round(od * (1 - d) * 1e6) / 1e6;
    return {
      discount: d,
      fixedSpot: point('spot, fixed for peak', run({ autoscale: false, spotPricePerHour })),
      autoscaled: point('spot, autoscaled', run({ autoscale: true, spotPricePerHour })),
    };
  });
  const shapes = SHAPES.map((shape) => ({
    shape,
    fixedSpot: point('spot, fixed for peak', run({ autoscale: false, trafficShape: shape })),
    autoscaled: point('spot, autoscaled', run({ autoscale: true, trafficShape: shape })),
  }));
  const placement = (['price', 'spread'] as const).map((order) => {
    const r = run({ autoscale: true, placementOrder: order });
    return { order, paidSpotPerHour: r.prices.paidSpotPerHour, meanSpotPerHour: r.prices.meanSpotPerHour, costUsd: r.costUsd };
  });
  const k = fixed.config;
  return {
    config: { nodes: k.nodes, hours: k.hours, seed: k.seed, policy: fixed.policy, shape: k.trafficShape, spotPricePerHour: k.spotPricePerHour, onDemandPricePerHour: k.onDemandPricePerHour },
    frontier,
    discounts,
    shapes,
    placement,
  };
}

const pct = (x: number, d = 1): string => `${(x * 100).toFixed(d)} %`;
const usd = (x: number): string => `$${x.toFixed(2)}`;
const row = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`;
const head = (cells: string[]): string => `${row(cells)}\n${row(cells.map(() => '---'))}`;

/** The study as Markdown tables (pasted into docs/economics.md as printed). */
export function renderAutoscaleStudy(s: AutoscaleStudy): string {
  const c = s.config;
  const out: string[] = [
    `${c.nodes} nodes at peak × ${c.hours} h, seed ${c.seed}, ${c.policy}, traffic ${c.shape}; spot ${usd(c.spotPricePerHour)}/h (market mean), on-demand ${usd(c.onDemandPricePerHour)}/h`,
    '',
    '**Cost against success** (savings against a fixed on-demand fleet sized for peak):',
    '',
    head(['fleet', 'cost', 'savings', 'success', 'p99 queue', 'mean nodes', 'scale out / in']),
    ...s.frontier.map((p) => row([p.label, usd(p.costUsd), pct(p.savings), pct(p.successRate, 3), `${(p.p99QueueMs / 1000).toFixed(2)} s`, p.meanNodes, `${p.scaleOuts} / ${p.scaleIns}`])),
    '',
    '**At realistic GPU spot discounts** (savings against on-demand sized for peak), beside published figures:',
    '',
    head(['spot discount', 'spot, fixed for peak', 'spot, autoscaled', 'autoscaled success']),
    ...s.discounts.map((d) => row([pct(d.discount, 0), pct(d.fixedSpot.savings), pct(d.autoscaled.savings), pct(d.autoscaled.successRate, 3)])),
    '',
    head(['published', 'savings vs on-demand', 'as reported']),
    ...PUBLISHED_SAVINGS.map((p) => row([p.system, pct(p.savings, 0), p.note])),
    '',
    '**By trace** (seed prices):',
    '',
    head(['traffic', 'fixed: savings', 'fixed: success', 'autoscaled: savings', 'autoscaled: success', 'p99 queue', 'mean nodes', 'scale out / in']),
    ...s.shapes.map((x) => row([x.shape, pct(x.fixedSpot.savings), pct(x.fixedSpot.successRate, 3), pct(x.autoscaled.savings), pct(x.autoscaled.successRate, 3), `${(x.autoscaled.p99QueueMs / 1000).toFixed(2)} s`, x.autoscaled.meanNodes, `${x.autoscaled.scaleOuts} / ${x.autoscaled.scaleIns}`])),
    '',
    '**Placement** (autoscaled): spot price paid per node-hour against the markets\' mean:',
    '',
    head(['order', 'paid $/h', 'market mean $/h', 'cost']),
    ...s.placement.map((p) => row([p.order, p.paidSpotPerHour === null ? '-' : p.paidSpotPerHour.toFixed(4), p.meanSpotPerHour.toFixed(4), usd(p.costUsd)])),
  ];
  return out.join('\n');
}

import { NODE_CONCURRENCY } from '../constants.js';
import type { SimResult } from '../result.js';
import { renderSeedStudy, SEED_STUDY_NOTES } from './table.js';
import { renderTable } from './table.js';
import type { SeedStudyRow } from '../study/seed-phase1.js';
import { lineChart } from './svg.js';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A self-contained HTML report: tables plus inline SVG charts, no scripts, no external assets. */
export function renderHtml(results: readonly SimResult[], study?: readonly SeedStudyRow[]): string {
  const charts: string[] = [];
  if (results.length > 0) {
    charts.push(
      lineChart(
        'Cost vs availability per policy (savings vs request success)',
        results.map((r, i) => ({ name: r.policy, xs: [r.savings], ys: [r.requests.successRate], color: COLORS[i % COLORS.length]! })),
        'savings vs on-demand',
        'success',
        true,
      ),
      lineChart(
        'Serving agents over time',
        results.map((r, i) => ({ name: r.policy, xs: r.series.t, ys: r.series.serving, color: COLORS[i % COLORS.length]! })),
        'hours',
        'agents',
      ),
    );
    const first = results[0]!;
    if (results.some((r) => r.config.autoscale)) {
      // Offered load in nodes' worth at the target utilisation, beside each fleet's target: the autoscaler's job at a glance.
      const perNode = first.config.targetUtilization * NODE_CONCURRENCY;
      charts.push(
        lineChart(
          'Target size against the load (offered sequences ÷ target load per node)',
          [
            { name: 'load, in nodes at target load', xs: first.series.t, ys: first.series.demand.map((d) => d / perNode), color: '#7f7f7f' },
            ...results.map((r, i) => ({ name: `${r.policy}: target`, xs: r.series.t, ys: r.series.target, color: COLORS[i % COLORS.length]! })),
          ],
          'hours',
          'nodes',
        ),
      );
    }
    charts.push(
      lineChart(
        'Spot price paths ($/h)',
        first.series.prices.map((ys, i) => ({ name: first.series.markets[i]!, xs: first.series.t, ys, color: COLORS[i % COLORS.length]! })),
        'hours',
        '$/h',
      ),
    );
  }
  const studyHtml =
    study === undefined
      ? ''
      : `<h2>Seed Phase-1 study</h2><pre>${esc(renderSeedStudy(study))}</pre><ul>${SEED_STUDY_NOTES.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`;
  return [
    '<!doctype html><html><head><meta charset="utf-8"><title>Synkti simulation</title>',
    '<style>body{font-family:sans-serif;max-width:960px;margin:2em auto}pre{background:#f4f4f4;padding:1em;overflow:auto}figure{margin:1em 0}</style>',
    '</head><body><h1>Synkti fleet simulation</h1>',
    results.length > 0 ? `<pre>${esc(renderTable(results))}</pre>` : '',
    charts.join('\n'),
    studyHtml,
    '</body></html>',
  ].join('\n');
}

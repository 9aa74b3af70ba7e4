import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Context } from 'hono';

/**
 * The fleet dashboard served at `GET /` on every agent: one self-contained HTML page (inline
 * CSS and vanilla JS, no external assets, no build step) that polls `fleet` (this agent's
 * `/fleet`) every second and `fleet/history` (its ring buffer, see history.ts) every few
 * seconds, and renders the fleet as this agent sees it, with charts over the last minutes.
 *
 * Its parts are checked-in source files under `packages/gateway/assets/` (dashboard.html,
 * dashboard.css, dashboard.js), read once at start and put together into one page.
 *
 * Every value from the fleet goes into the DOM through `textContent` or attributes set with
 * `setAttribute`; the script never uses `innerHTML`. The Content-Security-Policy allows only
 * this exact script (by hash), inline styles and fetches to the same origin.
 *
 * Hooks for tests: each peer row is `tr[data-peer-id]`, its status cell `td[data-status]`;
 * each chart is `svg[data-chart]` with one `path[data-series]` per plotted series.
 */

/** How often the page polls `/fleet`. */
export const DASHBOARD_POLL_MS = 1_000;
/** Fleet events listed, newest first. */
export const DASHBOARD_EVENTS = 30;

const ASSETS = new URL('../assets/', import.meta.url);
const asset = (name: string): string => readFileSync(new URL(name, ASSETS), 'utf8');

/** The page's inline script, exported for tests (syntax check, CSP hash). */
export const DASHBOARD_SCRIPT = asset('dashboard.js');
const STYLE = asset('dashboard.css');

/** Fills `{{name}}` slots; a slot left unfilled is a broken page, so it throws at start. */
function fill(template: string, values: Record<string, string>): string {
  const out = template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`dashboard.html: no value for {{${name}}}`);
    return v;
  });
  return out;
}

export const DASHBOARD_HTML = fill(asset('dashboard.html'), {
  style: STYLE,
  script: DASHBOARD_SCRIPT,
  pollMs: String(DASHBOARD_POLL_MS),
  maxEvents: String(DASHBOARD_EVENTS),
  pollSeconds: String(DASHBOARD_POLL_MS / 1_000),
});

const scriptHash = `'sha256-${createHash('sha256').update(DASHBOARD_SCRIPT, 'utf8').digest('base64')}'`;

/** Only this page's own script and styles; data comes from the same origin. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${scriptHash}`,
  "style-src 'unsafe-inline'",
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Hono handler for `GET /`. */
export function dashboardHandler(c: Context): Response {
  c.header('content-security-policy', DASHBOARD_CSP);
  c.header('x-content-type-options', 'nosniff');
  c.header('referrer-policy', 'no-referrer');
  c.header('cache-control', 'no-cache');
  return c.html(DASHBOARD_HTML);
}

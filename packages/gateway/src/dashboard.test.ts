import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { type FleetEvent, MembershipView } from '@synkti/fleet';
import { silentLogger } from '@synkti/interface';
import { sampleNodeState } from '@synkti/protocol';
import { createGatewayApp } from './app.js';
import { DASHBOARD_SCRIPT } from './dashboard.js';

function app() {
  const view = new MembershipView('f');
  view.observe(sampleNodeState({ fleet: 'f', peerId: 'p0' }), 0);
  return createGatewayApp({ fleet: { selfId: 'p0', fleet: 'f', now: () => 0, peers: () => view.snapshot(0), events: (): FleetEvent[] => [] }, logger: silentLogger });
}

describe('dashboard', () => {
  it('serves one self-contained HTML page at / that polls /fleet', async () => {
    const res = await app().request('/');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const html = await res.text();
    assert.match(html, /^<!doctype html>/);
    assert.ok(html.includes(DASHBOARD_SCRIPT), 'the script is inline');
    assert.match(DASHBOARD_SCRIPT, /var FLEET_URL = 'fleet';/);
    assert.match(DASHBOARD_SCRIPT, /fetch\(FLEET_URL/);
    assert.match(DASHBOARD_SCRIPT, /setTimeout\(poll, POLL_MS\)/);
    assert.match(DASHBOARD_SCRIPT, /data-peer-id/);
    assert.match(DASHBOARD_SCRIPT, /data-status/);
    // No external assets (the machines may be offline) and no HTML built from data.
    assert.doesNotMatch(html, /(src|href)=["']?(https?:)?\/\//);
    assert.doesNotMatch(DASHBOARD_SCRIPT, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });

  it('ships a script that parses and that its Content-Security-Policy allows', async () => {
    assert.doesNotThrow(() => new Function(DASHBOARD_SCRIPT));
    const res = await app().request('/');
    const csp = res.headers.get('content-security-policy') ?? '';
    const hash = createHash('sha256').update(DASHBOARD_SCRIPT, 'utf8').digest('base64');
    assert.ok(csp.includes(`script-src 'sha256-${hash}'`), csp);
    assert.ok(csp.includes("connect-src 'self'"), csp);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  });

  it('leaves /fleet as JSON', async () => {
    const res = await app().request('/fleet');
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { self: string }).self, 'p0');
  });
});

import { createHash } from 'node:crypto';
import type { Context } from 'hono';

/**
 * The fleet dashboard served at `GET /` on every agent: one self-contained HTML page (inline
 * CSS and vanilla JS, no external assets, no build step) that polls `fleet` (this agent's
 * `/fleet`) every second and renders the whole fleet as this agent sees it.
 *
 * Every value from the fleet goes into the DOM through `textContent` or attributes set with
 * `setAttribute`; the script never uses `innerHTML`. The Content-Security-Policy allows only
 * this exact script (by hash), inline styles and fetches to the same origin.
 *
 * Hooks for tests: each peer row is `tr[data-peer-id]`, its status cell `td[data-status]`.
 */

/** How often the page polls `/fleet`. */
export const DASHBOARD_POLL_MS = 1_000;
/** Fleet events listed, newest first. */
export const DASHBOARD_EVENTS = 30;

const CSS = `
:root {
  color-scheme: dark;
  --bg: #0f1419; --panel: #161d25; --panel-2: #1b232d; --line: #243040; --text: #d8e0e8; --muted: #8393a5; --faint: #5b6b7d;
  --accent: #6ea8fe; --green: #3fb67a; --amber: #e0a43a; --red: #e5605b; --blue: #5a9cf0; --violet: #a58cf0; --grey: #7b8796;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
}
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--text); }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.wrap { max-width: 1360px; margin: 0 auto; padding: 20px 24px 40px; }
header { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 12px 24px; padding-bottom: 16px; border-bottom: 1px solid var(--line); }
.brand { display: flex; align-items: center; gap: 12px; }
.logo { width: 28px; height: 28px; border-radius: 8px; background: linear-gradient(135deg, #6ea8fe, #3fb67a); box-shadow: 0 0 0 1px #ffffff14 inset; }
h1 { font-size: 18px; font-weight: 600; margin: 0; letter-spacing: .2px; }
h1 .fleet { color: var(--accent); font-family: var(--mono); font-weight: 500; }
.sub { color: var(--muted); font-size: 12.5px; }
.sub .mono { color: var(--text); }
.meta { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px; }
.counts { display: flex; gap: 6px; }
.updated { color: var(--muted); font-size: 12.5px; display: flex; align-items: center; gap: 7px; min-width: 170px; }
.dot { width: 8px; height: 8px; border-radius: 50%; background: var(--green); box-shadow: 0 0 0 3px #3fb67a26; }
.updated.stale .dot { background: var(--red); box-shadow: 0 0 0 3px #e5605b26; }
.updated.stale { color: var(--red); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; margin: 18px 0; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.card .label { color: var(--muted); font-size: 11.5px; text-transform: uppercase; letter-spacing: .6px; }
.card .value { font-size: 22px; font-weight: 600; margin-top: 2px; font-variant-numeric: tabular-nums; }
.card .value small { font-size: 13px; color: var(--muted); font-weight: 400; margin-left: 4px; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; margin-top: 16px; overflow: hidden; }
section h2 { font-size: 13px; font-weight: 600; margin: 0; padding: 11px 16px; border-bottom: 1px solid var(--line); color: var(--muted); text-transform: uppercase; letter-spacing: .6px; display: flex; justify-content: space-between; }
section h2 span { text-transform: none; letter-spacing: 0; font-weight: 400; }
.scroll { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th { text-align: left; font-weight: 500; color: var(--faint); font-size: 11.5px; text-transform: uppercase; letter-spacing: .5px; padding: 9px 12px; background: var(--panel-2); border-bottom: 1px solid var(--line); white-space: nowrap; }
td { padding: 10px 12px; border-bottom: 1px solid var(--line); vertical-align: top; }
tbody tr:last-child td { border-bottom: 0; }
tbody tr:hover td { background: #1a222c; }
tr.self td:first-child { box-shadow: 3px 0 0 var(--accent) inset; }
tr.is-dead td { color: var(--faint); }
tr.is-dead td .pill:not(.status), tr.is-dead td .chip, tr.is-dead td .bar { filter: grayscale(1); opacity: .55; }
.pill { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px; font-weight: 500; line-height: 19px; white-space: nowrap; border: 1px solid transparent; }
.pill.alive, .pill.warm { color: var(--green); background: #3fb67a1f; border-color: #3fb67a40; }
.pill.suspect, .pill.draining { color: var(--amber); background: #e0a43a1f; border-color: #e0a43a40; }
.pill.dead, .pill.failed { color: var(--red); background: #e5605b1f; border-color: #e5605b40; }
.pill.pulling, .pill.starting, .pill.loading, .pill.joined, .pill.engine { color: var(--blue); background: #5a9cf01f; border-color: #5a9cf040; }
.pill.interrupted { color: #f08a4b; background: #f08a4b1f; border-color: #f08a4b40; }
.pill.stopped, .pill.left, .pill.forgotten, .pill.unknown { color: var(--grey); background: #7b87961a; border-color: #7b879633; }
.pill.status { min-width: 64px; text-align: center; }
.pill.count { color: var(--muted); background: transparent; border-color: var(--line); }
.pill.count b { font-weight: 600; margin-right: 4px; }
.pill.count.alive b { color: var(--green); } .pill.count.suspect b { color: var(--amber); } .pill.count.dead b { color: var(--red); }
.tag { display: inline-block; margin-left: 6px; padding: 0 6px; border-radius: 4px; font-size: 11px; line-height: 17px; color: var(--accent); border: 1px solid #6ea8fe55; vertical-align: 1px; }
.tag.warn { color: var(--amber); border-color: #e0a43a55; }
.tag.muted { color: var(--muted); border-color: var(--line); }
.mono { font-family: var(--mono); font-size: 12.5px; }
.muted { color: var(--muted); }
.small { font-size: 12px; }
.peer a { color: var(--text); text-decoration: none; }
.peer a:hover { color: var(--accent); text-decoration: underline; }
.line2 { color: var(--muted); font-size: 12px; margin-top: 2px; }
.bar { width: 110px; height: 6px; background: #243040; border-radius: 3px; overflow: hidden; margin-top: 5px; }
.bar i { display: block; height: 100%; background: var(--accent); border-radius: 3px; }
.bar i.hi { background: var(--amber); } .bar i.full { background: var(--red); }
.countdown { font-family: var(--mono); font-weight: 600; color: #f08a4b; }
.countdown.urgent { color: var(--red); }
.chip { display: inline-block; margin: 0 4px 3px 0; padding: 0 7px; border-radius: 4px; background: var(--panel-2); border: 1px solid var(--line); font-size: 12px; line-height: 19px; }
.empty { color: var(--muted); padding: 18px 16px; text-align: center; }
ol.events { list-style: none; margin: 0; padding: 4px 0; max-height: 460px; overflow-y: auto; }
ol.events li { display: grid; grid-template-columns: 86px 150px 96px 1fr; gap: 12px; align-items: center; padding: 6px 16px; border-bottom: 1px solid #1f2935; }
ol.events li:last-child { border-bottom: 0; }
footer { margin-top: 18px; color: var(--faint); font-size: 12px; display: flex; justify-content: space-between; flex-wrap: wrap; gap: 8px; }
.error { margin-top: 14px; padding: 10px 14px; border-radius: 8px; border: 1px solid #e5605b55; background: #e5605b14; color: #f2a19d; display: none; }
.error.show { display: block; }
@media (max-width: 720px) { ol.events li { grid-template-columns: 70px 1fr; } ol.events li .detail { grid-column: 1 / -1; } }
`;

// Plain ES2020 for the browser; no template literals so it can live in this TS string as is.
const SCRIPT = `
(function () {
  'use strict';
  var POLL_MS = ${DASHBOARD_POLL_MS};
  var MAX_EVENTS = ${DASHBOARD_EVENTS};
  var FLEET_URL = 'fleet';
  var STATUS_ORDER = ['alive', 'suspect', 'dead'];
  var rows = new Map();
  var last = null;        // last /fleet answer
  var fetchedAt = 0;      // Date.now() when it arrived
  var clockOffset = 0;    // agent clock - browser clock, ms
  var failures = 0;
  var lastError = '';

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function safeClass(s) { return String(s).toLowerCase().replace(/[^a-z0-9-]/g, ''); }
  function pill(text, kind, extra) { return el('span', 'pill ' + safeClass(kind || text) + (extra ? ' ' + extra : ''), text); }
  function shortId(id) { id = String(id); return id.length > 16 ? id.slice(0, 4) + '\\u2026' + id.slice(-8) : id; }
  function num(v) { return typeof v === 'number' && isFinite(v) ? v : null; }
  function pad2(n) { return n < 10 ? '0' + n : String(n); }
  function duration(ms) {
    ms = Math.max(0, Math.round(ms));
    if (ms < 1000) return ms + ' ms';
    var s = Math.floor(ms / 1000);
    if (s < 60) return s + ' s';
    var m = Math.floor(s / 60);
    if (m < 60) return m + ' m ' + pad2(s % 60) + ' s';
    var h = Math.floor(m / 60);
    if (h < 48) return h + ' h ' + pad2(m % 60) + ' m';
    return Math.floor(h / 24) + ' d ' + (h % 24) + ' h';
  }
  function clock(ms) {
    var s = Math.max(0, Math.ceil(ms / 1000));
    var m = Math.floor(s / 60);
    return (m >= 60 ? Math.floor(m / 60) + ':' + pad2(m % 60) : String(m)) + ':' + pad2(s % 60);
  }
  function timeOfDay(epochMs) {
    var d = new Date(epochMs);
    return pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds());
  }
  function agentNow() { return Date.now() + clockOffset; }
  function bar(fraction) {
    var b = el('div', 'bar');
    var i = el('i');
    var f = Math.max(0, Math.min(1, fraction));
    i.style.width = (f * 100).toFixed(1) + '%';
    if (f >= 0.95) i.className = 'full'; else if (f >= 0.75) i.className = 'hi';
    b.appendChild(i);
    return b;
  }
  function httpUrl(s) {
    try { var u = new URL(String(s)); return u.protocol === 'http:' || u.protocol === 'https:' ? u : null; } catch (e) { return null; }
  }

  function peerCell(p) {
    var td = el('td', 'peer');
    var id = el('span', 'mono', shortId(p.peerId));
    id.title = String(p.peerId);
    var url = p.apiUrl ? httpUrl(p.apiUrl) : null;
    if (url && !p.self) {
      var a = el('a');
      a.href = url.origin + '/';
      a.title = 'Open the dashboard of this agent: ' + url.origin;
      a.appendChild(id);
      td.appendChild(a);
    } else {
      td.appendChild(id);
    }
    if (p.self) td.appendChild(el('span', 'tag', 'this agent'));
    var prov = p.provider || {};
    var bits = [];
    if (prov.kind) bits.push(prov.kind);
    if (prov.instanceType) bits.push(prov.instanceType);
    if (prov.zone) bits.push(prov.zone);
    if (prov.lifecycle && prov.lifecycle !== 'unknown') bits.push(prov.lifecycle);
    if (prov.slot) bits.push('slot ' + prov.slot);
    if (url) bits.push(url.host);
    if (bits.length) td.appendChild(el('div', 'line2', bits.join(' \\u00b7 ')));
    return td;
  }

  function engineCell(p) {
    var td = el('td');
    var e = p.engine || {};
    var state = e.state || 'unknown';
    td.appendChild(pill(state));
    if (p.draining && state !== 'draining') td.appendChild(el('span', 'tag warn', 'draining'));
    if (p.status === 'alive' && !p.healthy) td.appendChild(el('span', 'tag warn', 'not routable'));
    var inState = (num(e.inStateMs) || 0) + (num(p.lastSeenMs) || 0);
    td.appendChild(el('div', 'line2', p.status === 'dead' ? 'last known, for ' + duration(num(e.inStateMs) || 0) : 'for ' + duration(inState)));
    if (typeof e.version === 'string') td.appendChild(el('div', 'line2', 'v' + e.version));
    return td;
  }

  function modelsCell(p) {
    var td = el('td');
    var models = Array.isArray(p.models) ? p.models : [];
    if (models.length === 0) td.appendChild(el('span', 'muted', '\\u2014'));
    for (var i = 0; i < models.length; i++) td.appendChild(el('span', 'chip mono', models[i]));
    return td;
  }

  function loadCell(p) {
    var td = el('td');
    var l = p.load || {};
    var running = num(l.running), waiting = num(l.waiting), cap = num(l.capacity);
    var main = el('div');
    main.appendChild(el('span', null, (running === null ? '\\u2014' : running) + ' running'));
    main.appendChild(el('span', 'muted', ' \\u00b7 ' + (waiting === null ? '\\u2014' : waiting) + ' waiting'));
    td.appendChild(main);
    td.appendChild(el('div', 'line2', 'capacity ' + (cap === null ? '\\u2014' : cap) + ' \\u00b7 in flight ' + (num(l.inFlight) === null ? '\\u2014' : l.inFlight)));
    if (cap) td.appendChild(bar((running || 0) / cap));
    return td;
  }

  function kvCell(p) {
    var td = el('td');
    var kv = num((p.load || {}).kvCacheUsage);
    if (kv === null) { td.appendChild(el('span', 'muted', '\\u2014')); return td; }
    td.appendChild(el('span', null, (kv * 100).toFixed(kv < 0.1 ? 1 : 0) + '%'));
    td.appendChild(bar(kv));
    return td;
  }

  function interruptionCell(p) {
    var td = el('td');
    var it = p.interruption;
    if (!it) { td.appendChild(el('span', 'muted', '\\u2014')); return td; }
    td.appendChild(pill(it.kind || 'interruption', 'interrupted'));
    if (num(it.deadline) !== null) {
      var c = el('div', 'countdown');
      c.setAttribute('data-deadline', String(it.deadline));
      td.appendChild(c);
      renderCountdown(c);
    } else {
      td.appendChild(el('div', 'line2', 'no deadline'));
    }
    if (num(it.noticedAt) !== null) td.appendChild(el('div', 'line2', 'noticed ' + timeOfDay(it.noticedAt)));
    return td;
  }

  function renderCountdown(node) {
    var left = Number(node.getAttribute('data-deadline')) - agentNow();
    node.textContent = left > 0 ? 'in ' + clock(left) : 'deadline passed ' + duration(-left) + ' ago';
    node.classList.toggle('urgent', left < 30000);
  }

  function launchesCell(p) {
    var td = el('td');
    var ls = Array.isArray(p.launches) ? p.launches : [];
    if (ls.length === 0) { td.appendChild(el('span', 'muted', '\\u2014')); return td; }
    for (var i = 0; i < ls.length; i++) {
      var chip = el('span', 'chip', (ls[i].slot || '?') + ' \\u00b7 ' + duration(agentNow() - Number(ls[i].startedAt)));
      chip.title = 'launch token ' + String(ls[i].token);
      td.appendChild(chip);
    }
    return td;
  }

  function renderRow(tr, p) {
    tr.className = (p.self ? 'self ' : '') + 'is-' + safeClass(p.status);
    var status = el('td');
    status.setAttribute('data-status', String(p.status));
    status.appendChild(pill(p.status, p.status, 'status'));
    var seen = el('td', 'small muted', p.self ? 'self' : duration(num(p.lastSeenMs) || 0) + ' ago');
    tr.replaceChildren(status, peerCell(p), engineCell(p), modelsCell(p), loadCell(p), kvCell(p), interruptionCell(p), launchesCell(p), seen);
  }

  function renderPeers(f) {
    var body = $('peers');
    var peers = f.peers.slice().sort(function (a, b) {
      if (a.self !== b.self) return a.self ? -1 : 1;
      return a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0;
    });
    var seen = new Set();
    var frag = document.createDocumentFragment();
    for (var i = 0; i < peers.length; i++) {
      var p = peers[i];
      seen.add(p.peerId);
      var tr = rows.get(p.peerId);
      if (!tr) { tr = el('tr'); tr.setAttribute('data-peer-id', String(p.peerId)); rows.set(p.peerId, tr); }
      renderRow(tr, p);
      frag.appendChild(tr);
    }
    rows.forEach(function (_tr, id) { if (!seen.has(id)) rows.delete(id); });
    if (peers.length === 0) {
      var empty = el('tr');
      var td = el('td', 'empty', 'This agent knows no peer yet.');
      td.colSpan = 9;
      empty.appendChild(td);
      frag.appendChild(empty);
    }
    body.replaceChildren(frag);
  }

  function renderCounts(f) {
    var counts = { alive: 0, suspect: 0, dead: 0 };
    for (var i = 0; i < f.peers.length; i++) if (counts[f.peers[i].status] !== undefined) counts[f.peers[i].status]++;
    var box = $('counts');
    var nodes = [];
    for (var j = 0; j < STATUS_ORDER.length; j++) {
      var s = STATUS_ORDER[j];
      var c = el('span', 'pill count ' + s);
      c.setAttribute('data-count', s);
      c.appendChild(el('b', null, counts[s]));
      c.appendChild(document.createTextNode(s));
      nodes.push(c);
    }
    box.replaceChildren.apply(box, nodes);
    return counts;
  }

  function renderCards(f, counts) {
    var warm = 0, running = 0, waiting = 0, interrupted = 0, launches = 0, live = 0;
    for (var i = 0; i < f.peers.length; i++) {
      var p = f.peers[i];
      launches += Array.isArray(p.launches) ? p.launches.length : 0;
      if (p.status === 'dead') continue;
      live++;
      if (p.engine && p.engine.state === 'warm') warm++;
      running += num(p.load && p.load.running) || 0;
      waiting += num(p.load && p.load.waiting) || 0;
      if (p.interruption) interrupted++;
    }
    setCard('card-peers', f.peers.length, counts.alive + ' alive');
    setCard('card-warm', warm, 'of ' + live + ' live');
    setCard('card-running', running, waiting + ' waiting');
    setCard('card-interrupted', interrupted, interrupted === 1 ? 'node' : 'nodes');
    setCard('card-launches', launches, 'in flight');
  }
  function setCard(id, value, note) {
    var v = $(id);
    v.replaceChildren(document.createTextNode(String(value)), el('small', null, note));
  }

  function renderEvents(f) {
    var list = $('events');
    var events = Array.isArray(f.events) ? f.events.slice() : [];
    events.reverse();
    events.sort(function (a, b) { return Number(b.at) - Number(a.at); });
    events = events.slice(0, MAX_EVENTS);
    if (events.length === 0) { list.replaceChildren(el('li', 'empty', 'No fleet events yet.')); return; }
    var nodes = [];
    for (var i = 0; i < events.length; i++) {
      var e = events[i];
      var li = el('li');
      li.setAttribute('data-event-kind', String(e.kind));
      var t = el('span', 'mono muted', timeOfDay(Number(e.at)));
      t.title = new Date(Number(e.at)).toISOString();
      var who = el('span', 'mono', shortId(e.peerId));
      who.title = String(e.peerId);
      if (last && e.peerId === last.self) who.appendChild(el('span', 'tag muted', 'self'));
      var kind = el('span');
      kind.appendChild(pill(e.kind));
      li.append(t, who, kind, el('span', 'detail muted', e.detail));
      nodes.push(li);
    }
    list.replaceChildren.apply(list, nodes);
    $('events-note').textContent = 'newest first \\u00b7 last ' + events.length;
  }

  function render(f) {
    $('fleet-name').textContent = f.fleet;
    $('self-id').textContent = shortId(f.self);
    $('self-id').title = String(f.self);
    document.title = 'Synkti \\u00b7 ' + f.fleet;
    var counts = renderCounts(f);
    renderCards(f, counts);
    renderPeers(f);
    renderEvents(f);
    $('peers-note').textContent = f.peers.length + (f.peers.length === 1 ? ' peer' : ' peers') + ' \\u00b7 as seen by this agent';
  }

  function tick() {
    var upd = $('updated');
    var txt = $('updated-text');
    if (!last) {
      txt.textContent = failures > 0 ? 'cannot reach this agent' : 'connecting\\u2026';
      upd.classList.toggle('stale', failures > 0);
    } else {
      var age = Date.now() - fetchedAt;
      txt.textContent = 'updated ' + (age < 1500 ? 'just now' : duration(age) + ' ago') + ' \\u00b7 ' + timeOfDay(fetchedAt);
      upd.classList.toggle('stale', age > 4 * POLL_MS);
    }
    var err = $('error');
    err.classList.toggle('show', failures >= 3);
    if (failures >= 3) err.textContent = 'No answer from this agent for ' + failures + ' polls (' + lastError + '). The page keeps trying; the data below may be out of date.';
    var cds = document.querySelectorAll('[data-deadline]');
    for (var i = 0; i < cds.length; i++) renderCountdown(cds[i]);
  }

  function poll() {
    var ctrl = new AbortController();
    var timer = setTimeout(function () { ctrl.abort(); }, 4 * POLL_MS);
    // With API keys configured /fleet needs one: open the page as /#key=<key> (a fragment never
    // reaches a server or its logs); it is kept for this tab only.
    var fromHash = /(?:^#|&)key=([^&]+)/.exec(location.hash);
    if (fromHash) { sessionStorage.setItem('synkti-key', decodeURIComponent(fromHash[1])); history.replaceState(null, '', location.pathname); }
    var key = sessionStorage.getItem('synkti-key');
    var headers = { accept: 'application/json' };
    if (key) headers.authorization = 'Bearer ' + key;
    fetch(FLEET_URL, { cache: 'no-store', signal: ctrl.signal, headers: headers })
      .then(function (res) {
        if (res.status === 401) throw new Error('this fleet needs an API key: open this page as /#key=<your key>');
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(function (f) {
        if (!f || !Array.isArray(f.peers)) throw new Error('unexpected answer');
        fetchedAt = Date.now();
        if (num(f.now) !== null) clockOffset = f.now - fetchedAt;
        last = f;
        failures = 0;
        render(f);
      })
      .catch(function (e) {
        failures++;
        lastError = e && e.name === 'AbortError' ? 'timed out' : String((e && e.message) || e);
      })
      .then(function () {
        clearTimeout(timer);
        tick();
        setTimeout(poll, POLL_MS);
      });
  }

  setInterval(tick, 250);
  poll();
})();
`;

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark">
<title>Synkti fleet</title>
<link rel="icon" href="data:,">
<style>${CSS}</style>
</head>
<body>
<div class="wrap">
  <header>
    <div class="brand">
      <div class="logo" aria-hidden="true"></div>
      <div>
        <h1>Synkti fleet <span class="fleet" id="fleet-name">…</span></h1>
        <div class="sub">as seen by agent <span class="mono" id="self-id">…</span></div>
      </div>
    </div>
    <div class="meta">
      <div class="counts" id="counts" aria-label="peers by status"></div>
      <div class="updated" id="updated" role="status" aria-live="polite"><span class="dot"></span><span id="updated-text">connecting…</span></div>
    </div>
  </header>
  <div class="error" id="error" role="alert"></div>
  <div class="cards">
    <div class="card"><div class="label">Peers</div><div class="value" id="card-peers">–</div></div>
    <div class="card"><div class="label">Warm engines</div><div class="value" id="card-warm">–</div></div>
    <div class="card"><div class="label">Requests running</div><div class="value" id="card-running">–</div></div>
    <div class="card"><div class="label">Interrupted</div><div class="value" id="card-interrupted">–</div></div>
    <div class="card"><div class="label">Launches</div><div class="value" id="card-launches">–</div></div>
  </div>
  <section>
    <h2>Peers <span id="peers-note"></span></h2>
    <div class="scroll">
      <table>
        <thead><tr><th>Status</th><th>Peer</th><th>Engine</th><th>Models</th><th>Load</th><th>KV cache</th><th>Interruption</th><th>Launches</th><th>Last seen</th></tr></thead>
        <tbody id="peers"><tr><td class="empty" colspan="9">Loading the fleet…</td></tr></tbody>
      </table>
    </div>
  </section>
  <section>
    <h2>Recent fleet events <span id="events-note"></span></h2>
    <ol class="events" id="events"><li class="empty">Loading…</li></ol>
  </section>
  <footer><span>Live from this agent's <span class="mono">/fleet</span>, every ${DASHBOARD_POLL_MS / 1_000} s. Other endpoints: <span class="mono">/healthz</span> <span class="mono">/readyz</span> <span class="mono">/metrics</span> <span class="mono">/v1</span></span><span>Synkti</span></footer>
</div>
<script>${SCRIPT}</script>
</body>
</html>
`;

/** The page's inline script, exported for tests (syntax check, CSP hash). */
export const DASHBOARD_SCRIPT = SCRIPT;
export const DASHBOARD_HTML = HTML;

const scriptHash = `'sha256-${createHash('sha256').update(SCRIPT, 'utf8').digest('base64')}'`;

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
  return c.html(HTML);
}

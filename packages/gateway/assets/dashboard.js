(function () {
  'use strict';
  // Set by the server from its constants (packages/gateway/src/dashboard.ts).
  var POLL_MS = Number(document.body.getAttribute('data-poll-ms')) || 1000;
  var MAX_EVENTS = Number(document.body.getAttribute('data-max-events')) || 30;
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
  function shortId(id) { id = String(id); return id.length > 16 ? id.slice(0, 4) + '\u2026' + id.slice(-8) : id; }
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
    try { var u = new URL(String(s)); return u.protocol === 'http:' || u.protocol === 'https:' ? u : null; } catch { return null; }
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
    if (bits.length) td.appendChild(el('div', 'line2', bits.join(' \u00b7 ')));
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
    if (models.length === 0) td.appendChild(el('span', 'muted', '\u2014'));
    for (var i = 0; i < models.length; i++) td.appendChild(el('span', 'chip mono', models[i]));
    return td;
  }

  function loadCell(p) {
    var td = el('td');
    var l = p.load || {};
    var running = num(l.running), waiting = num(l.waiting), cap = num(l.capacity);
    var main = el('div');
    main.appendChild(el('span', null, (running === null ? '\u2014' : running) + ' running'));
    main.appendChild(el('span', 'muted', ' \u00b7 ' + (waiting === null ? '\u2014' : waiting) + ' waiting'));
    td.appendChild(main);
    td.appendChild(el('div', 'line2', 'capacity ' + (cap === null ? '\u2014' : cap) + ' \u00b7 in flight ' + (num(l.inFlight) === null ? '\u2014' : l.inFlight)));
    if (cap) td.appendChild(bar((running || 0) / cap));
    return td;
  }

  function kvCell(p) {
    var td = el('td');
    var kv = num((p.load || {}).kvCacheUsage);
    if (kv === null) { td.appendChild(el('span', 'muted', '\u2014')); return td; }
    td.appendChild(el('span', null, (kv * 100).toFixed(kv < 0.1 ? 1 : 0) + '%'));
    td.appendChild(bar(kv));
    return td;
  }

  function interruptionCell(p) {
    var td = el('td');
    var it = p.interruption;
    if (!it) { td.appendChild(el('span', 'muted', '\u2014')); return td; }
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
    if (ls.length === 0) { td.appendChild(el('span', 'muted', '\u2014')); return td; }
    for (var i = 0; i < ls.length; i++) {
      var chip = el('span', 'chip', (ls[i].slot || '?') + ' \u00b7 ' + duration(agentNow() - Number(ls[i].startedAt)));
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
    $('events-note').textContent = 'newest first \u00b7 last ' + events.length;
  }

  function render(f) {
    $('fleet-name').textContent = f.fleet;
    $('self-id').textContent = shortId(f.self);
    $('self-id').title = String(f.self);
    document.title = 'Synkti \u00b7 ' + f.fleet;
    var counts = renderCounts(f);
    renderCards(f, counts);
    renderPeers(f);
    renderEvents(f);
    $('peers-note').textContent = f.peers.length + (f.peers.length === 1 ? ' peer' : ' peers') + ' \u00b7 as seen by this agent';
  }

  function tick() {
    var upd = $('updated');
    var txt = $('updated-text');
    if (!last) {
      txt.textContent = failures > 0 ? 'cannot reach this agent' : 'connecting\u2026';
      upd.classList.toggle('stale', failures > 0);
    } else {
      var age = Date.now() - fetchedAt;
      txt.textContent = 'updated ' + (age < 1500 ? 'just now' : duration(age) + ' ago') + ' \u00b7 ' + timeOfDay(fetchedAt);
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


  // ---- Charts over the last minutes, from this agent's ring buffer (/fleet/history) ----
  var HISTORY_URL = 'fleet/history';
  var HISTORY_POLL_MS = 5000;
  var SVG_NS = 'http://www.w3.org/2000/svg';
  var W = 360, H = 130, PAD_L = 38, PAD_R = 8, PAD_T = 8, PAD_B = 18;
  var CHARTS = [
    { id: 'requests', series: [{ key: 'requestsPerS', name: 'requests/s', cls: 's1' }, { key: 'failedPerS', name: 'failed/s', cls: 's4' }] },
    { id: 'ttft', series: [{ key: 'ttftP50Ms', name: 'p50 ms', cls: 's1' }, { key: 'ttftP99Ms', name: 'p99 ms', cls: 's3' }] },
    { id: 'tokens', series: [{ key: 'tokensPerS', name: 'tokens/s', cls: 's2' }] },
    { id: 'warm', series: [{ key: 'warm', name: 'warm', cls: 's2' }, { key: 'target', name: 'target', cls: 's5' }], step: true },
    { id: 'size', series: [{ key: 'peers', name: 'peers', cls: 's1' }, { key: 'target', name: 'target', cls: 's5' }], step: true, events: true },
    { id: 'cost', series: [{ key: 'costPerHour', name: 'fleet $/h', cls: 's2' }, { key: 'onDemandPerHour', name: 'on-demand $/h', cls: 's4' }], step: true }
  ];
  var EVENT_CLASS = { 'scale-out': 'ev-out', 'scale-in': 'ev-in', interrupted: 'ev-int', dead: 'ev-dead', joined: 'ev-join', left: 'ev-left' };

  function svg(tag, attrs) {
    var e = document.createElementNS(SVG_NS, tag);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  function niceMax(v) {
    if (!(v > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }
  function fmtAxis(v) { return v >= 1000 ? (v / 1000).toFixed(v >= 10000 ? 0 : 1) + 'k' : v >= 10 || v === 0 ? String(Math.round(v)) : v.toFixed(1); }

  function drawChart(spec, h) {
    var box = document.querySelector('svg[data-chart="' + spec.id + '"]');
    if (!box) return;
    var samples = h.samples;
    var t1 = num(h.now) || Date.now();
    var interval = h.intervalMs || 5000;
    // The last 15 minutes, or less while the agent has not been up that long: the data fills the width.
    var t0 = t1 - interval * 180;
    if (samples.length > 0) t0 = Math.max(t0, Math.min(samples[0].at - interval, t1 - 6 * interval));
    var max = 0;
    for (var i = 0; i < samples.length; i++) for (var j = 0; j < spec.series.length; j++) { var v = num(samples[i][spec.series[j].key]); if (v !== null && v > max) max = v; }
    var top = niceMax(max * 1.1);
    var x = function (t) { return PAD_L + ((t - t0) / (t1 - t0)) * (W - PAD_L - PAD_R); };
    var y = function (v) { return PAD_T + (1 - v / top) * (H - PAD_T - PAD_B); };
    var nodes = [];
    for (var g = 0; g <= 2; g++) {
      var gv = (top * g) / 2;
      nodes.push(svg('line', { x1: PAD_L, x2: W - PAD_R, y1: y(gv), y2: y(gv), class: 'grid' }));
      var lbl = svg('text', { x: PAD_L - 5, y: y(gv) + 3, class: 'axis', 'text-anchor': 'end' });
      lbl.textContent = fmtAxis(gv);
      nodes.push(lbl);
    }
    var tl = svg('text', { x: PAD_L, y: H - 4, class: 'axis' }); tl.textContent = '-' + duration(t1 - t0); nodes.push(tl);
    var tr = svg('text', { x: W - PAD_R, y: H - 4, class: 'axis', 'text-anchor': 'end' }); tr.textContent = 'now'; nodes.push(tr);
    if (spec.events && Array.isArray(h.events)) {
      for (var e = 0; e < h.events.length; e++) {
        var ev = h.events[e];
        if (!(ev.at >= t0)) continue;
        var mark = svg('line', { x1: x(ev.at), x2: x(ev.at), y1: PAD_T, y2: H - PAD_B, class: 'ev ' + (EVENT_CLASS[ev.kind] || 'ev-left') });
        mark.setAttribute('data-event', String(ev.kind));
        var title = svg('title', {}); title.textContent = ev.kind + (ev.detail ? ': ' + ev.detail : '') + ' at ' + timeOfDay(ev.at);
        mark.appendChild(title);
        nodes.push(mark);
      }
    }
    var plotted = 0;
    for (var s = 0; s < spec.series.length; s++) {
      var ser = spec.series[s];
      var d = '', pen = false, count = 0;
      for (var k = 0; k < samples.length; k++) {
        var val = num(samples[k][ser.key]);
        if (val === null || samples[k].at < t0) { pen = false; continue; }
        var px = x(samples[k].at).toFixed(1), py = y(val).toFixed(1);
        if (!pen) d += 'M' + px + ' ' + py;
        else if (spec.step) d += 'H' + px + 'V' + py;
        else d += 'L' + px + ' ' + py;
        pen = true; count++;
      }
      if (count === 0) continue;
      if (count === 1) d += 'h2';
      var path = svg('path', { d: d, class: 'line ' + ser.cls });
      path.setAttribute('data-series', ser.key);
      path.setAttribute('data-points', String(count));
      nodes.push(path);
      plotted++;
    }
    if (plotted === 0) {
      var none = svg('text', { x: W / 2, y: H / 2, class: 'axis', 'text-anchor': 'middle' });
      none.textContent = spec.id === 'cost' ? 'no prices configured (spotPricePerHour, onDemandPricePerHour)' : 'no data yet';
      nodes.push(none);
    }
    box.replaceChildren.apply(box, nodes);
    box.setAttribute('data-plotted', String(plotted));
  }

  function renderLegend(spec) {
    var leg = document.querySelector('[data-legend="' + spec.id + '"]');
    if (!leg || leg.childNodes.length) return;
    for (var i = 0; i < spec.series.length; i++) {
      var item = el('span', 'key ' + spec.series[i].cls, spec.series[i].name);
      leg.appendChild(item);
    }
  }

  function renderHistory(h) {
    if (!h || !Array.isArray(h.samples)) return;
    for (var i = 0; i < CHARTS.length; i++) { renderLegend(CHARTS[i]); drawChart(CHARTS[i], h); }
    var lastSample = h.samples[h.samples.length - 1];
    var note = $('cost-note');
    if (note && lastSample && num(lastSample.costPerHour) !== null && num(lastSample.onDemandPerHour)) {
      note.textContent = '$' + lastSample.costPerHour.toFixed(2) + '/h \u00b7 saves ' + ((1 - lastSample.costPerHour / lastSample.onDemandPerHour) * 100).toFixed(0) + '% vs on-demand';
    }
  }

  function pollHistory() {
    var ctrl = new AbortController();
    var timer = setTimeout(function () { ctrl.abort(); }, HISTORY_POLL_MS);
    var key = sessionStorage.getItem('synkti-key');
    var headers = { accept: 'application/json' };
    if (key) headers.authorization = 'Bearer ' + key;
    fetch(HISTORY_URL, { cache: 'no-store', signal: ctrl.signal, headers: headers })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(renderHistory)
      .catch(function () { /* the /fleet poll reports an unreachable agent */ })
      .then(function () { clearTimeout(timer); setTimeout(pollHistory, HISTORY_POLL_MS); });
  }

  setInterval(tick, 250);
  poll();
  pollHistory();
})();

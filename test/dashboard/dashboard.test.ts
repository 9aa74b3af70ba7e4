// The fleet dashboard in a real browser: `synkti local up` with 3 agents, the page of agent 0
// in headless Chromium (Debian's `chromium`, driven by playwright-core), then `synkti local kill 2`
// and the page must show node 2 suspect and then dead without a reload.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type Browser, chromium, type Page } from 'playwright-core';
import { cliPath } from '../harness/paths.js';
import { freeBasePort } from '../harness/ports.js';
import { waitFor } from '../harness/wait.js';
import { isProcessAlive as isAlive } from '@synkti/cloud';
import { readRuntimeFile } from 'synkti-agent';

const NODES = 3;
const KILLED = 2;
/** Short failure detection so the test is quick; the suspect phase (1 s to 4 s of silence) spans several polls of the page. */
const AGENT_ARGS = [
  '--agent-arg=--heartbeat-ms=250', '--agent-arg=--suspect-after-ms=1000', '--agent-arg=--dead-after-ms=4000',
  // Prices for the cost chart; every local node calls itself spot.
  '--agent-arg=--lifecycle=spot', '--agent-arg=--spot-price-per-hour=0.45', '--agent-arg=--on-demand-price-per-hour=1.21',
];
/** Where the screenshot of the charts under load is written when SYNKTI_DASHBOARD_SHOT is set (docs/dashboard.png). */
const SHOT_FOR_DOCS = process.env.SYNKTI_DASHBOARD_SHOT;
/** The chart ids of the page and the series each must plot under load. */
const CHARTS: [string, string[]][] = [
  ['requests', ['requestsPerS']],
  ['ttft', ['ttftP50Ms', 'ttftP99Ms']],
  ['tokens', ['tokensPerS']],
  ['warm', ['warm', 'target']],
  ['size', ['peers', 'target']],
  ['cost', ['costPerHour', 'onDemandPerHour']],
];
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const run = promisify(execFile);

/** `SYNKTI_CHROMIUM` names the browser binary if set; else Debian's /usr/bin/chromium or one on PATH. */
function findChromium(): string | undefined {
  const override = process.env.SYNKTI_CHROMIUM;
  const candidates = override ? [override] : ['/usr/bin/chromium', ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).flatMap((d) => [join(d, 'chromium'), join(d, 'chromium-browser')])];
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not there or not executable: try the next candidate
    }
  }
  return undefined;
}

interface LocalFleetFile {
  nodes: { index: number; pid: number; peerId: string; stateDir: string }[];
}

interface Fleet {
  child: ChildProcess;
  output: string[];
  exited: Promise<void>;
  basePort: number;
  dir: string;
}

/** `synkti local up`; resolves once it prints `ready`, rejects if it exits first. */
async function localUp(dir: string): Promise<Fleet> {
  const basePort = await freeBasePort(NODES);
  const child = spawn(process.execPath, [cliPath, 'local', 'up', '--nodes', String(NODES), '--base-port', String(basePort), '--dir', dir, ...AGENT_ARGS], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  let buffered = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    output.push(...lines);
  });
  child.stderr!.on('data', (d: Buffer) => output.push(...d.toString().split('\n').filter(Boolean)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const fleet = { child, output, exited, basePort, dir };
  await waitFor(
    '`local up` to print ready',
    () => {
      if (output.includes('ready')) return true;
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`local up exited early:\n${output.join('\n')}`);
      return undefined;
    },
    90_000,
    100,
  ).catch(async (err: Error) => {
    // waitFor retries on a throw until its deadline; stop early and say why.
    child.kill('SIGTERM');
    await exited;
    throw err;
  });
  return fleet;
}

/** Every PID the fleet started: the `local up` supervisor, its agents and their engines. */
async function fleetPids(fleet: Fleet): Promise<number[]> {
  const pids = fleet.child.pid === undefined ? [] : [fleet.child.pid];
  const file = JSON.parse(await readFile(join(fleet.dir, 'fleet.json'), 'utf8').catch(() => '{"nodes":[]}')) as LocalFleetFile;
  for (const node of file.nodes) {
    if (node.pid) pids.push(node.pid);
    const enginePid = (await readRuntimeFile(node.stateDir))?.enginePid;
    if (enginePid) pids.push(enginePid);
  }
  return pids;
}

// Browser-side expressions as strings: this file compiles without the DOM library.
const countIs = (status: string, n: number) => `document.querySelector('[data-count="${status}"] b')?.textContent === '${n}'`;
const rowStatus = (peerId: string, status: string) => `tr[data-peer-id="${peerId}"] td[data-status="${status}"]`;

describe('fleet dashboard in headless Chromium', { timeout: 240_000 }, () => {
  const chromiumPath = findChromium();
  let tmp = '';
  let fleet: Fleet | undefined;
  let pids: number[] = [];
  let browser: Browser | undefined;

  before(async () => {
    if (chromiumPath === undefined) return;
    tmp = await mkdtemp(join(tmpdir(), 'synkti-dashboard-'));
    // Two tries: another process may take one of the ports between the check and the bind.
    for (let attempt = 1; fleet === undefined; attempt++) {
      const dir = join(tmp, `fleet-${attempt}`);
      await mkdir(dir);
      try {
        fleet = await localUp(dir);
      } catch (err) {
        if (attempt >= 2) throw err;
        console.log(`# local up failed, retrying on other ports: ${(err as Error).message}`);
      }
    }
    pids = await fleetPids(fleet);
    browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS, timeout: 60_000 });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    if (fleet === undefined) return;
    // Node 2 died by SIGKILL before its agent.json could be updated; its PIDs are gone already.
    pids = [...new Set([...pids, ...(await fleetPids(fleet))])];
    const stopAt = Date.now();
    fleet.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([fleet.exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 40_000)))]);
    clearTimeout(timer);
    if (!stopped) fleet.child.kill('SIGKILL');
    assert.ok(stopped, `local up did not exit within 40 s of SIGTERM:\n${fleet.output.join('\n')}`);
    await waitFor('every process of the fleet to be gone', () => (pids.some(isAlive) ? undefined : true), 20_000, 100).catch((err: Error) => {
      const left = pids.filter(isAlive);
      for (const pid of left) process.kill(pid, 'SIGKILL');
      throw new Error(`${err.message}: still running ${left.join(', ')}`);
    });
    console.log(`# fleet stopped in ${Date.now() - stopAt} ms, ${pids.length} processes gone`);
    await rm(join(tmp, 'fleet-1'), { recursive: true, force: true });
    await rm(join(tmp, 'fleet-2'), { recursive: true, force: true });
  });

  it('shows every peer, then a killed peer turning suspect and dead without a reload', async (t) => {
    if (chromiumPath === undefined || browser === undefined || fleet === undefined) {
      t.skip(`chromium not found (${process.env.SYNKTI_CHROMIUM ?? '/usr/bin/chromium or on PATH'}); install it with "apt-get install chromium" to run this test`);
      return;
    }
    const file = JSON.parse(await readFile(join(fleet.dir, 'fleet.json'), 'utf8')) as LocalFleetFile;
    assert.equal(file.nodes.length, NODES);
    const killed = file.nodes.find((n) => n.index === KILLED)!;

    const page: Page = await browser.newPage({ viewport: { width: 1360, height: 820 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
    let navigations = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations++;
    });

    const url = `http://127.0.0.1:${fleet.basePort}/`;
    await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
    assert.equal(navigations, 1);
    for (const node of file.nodes) await page.waitForSelector(rowStatus(node.peerId, 'alive'), { timeout: 15_000 });
    assert.equal(await page.locator('tr[data-peer-id]').count(), NODES);
    assert.equal(await page.locator('tr.self').getAttribute('data-peer-id'), file.nodes[0]!.peerId, "agent 0's own row is marked");
    assert.equal((await page.locator('#fleet-name').textContent())?.length !== 0, true);
    await page.waitForFunction(countIs('alive', NODES), undefined, { timeout: 5_000 });
    await page.evaluate('window.synktiMarker = 42');
    await page.screenshot({ path: join(tmp, 'dashboard-alive.png'), fullPage: true });

    const { stdout } = await run(process.execPath, [cliPath, 'local', 'kill', String(KILLED), '--dir', fleet.dir], { timeout: 15_000 });
    assert.match(stdout, new RegExp(`killed node ${KILLED}`));
    const killedAt = Date.now();

    await page.waitForSelector(rowStatus(killed.peerId, 'suspect'), { timeout: 15_000 });
    const suspectAfter = Date.now() - killedAt;
    await page.waitForSelector(rowStatus(killed.peerId, 'dead'), { timeout: 20_000 });
    const deadAfter = Date.now() - killedAt;
    await page.waitForFunction(countIs('dead', 1), undefined, { timeout: 5_000 });
    for (const node of file.nodes.filter((n) => n.index !== KILLED)) assert.equal(await page.locator(rowStatus(node.peerId, 'alive')).count(), 1, `node ${node.index} stays alive`);
    await page.waitForSelector('#events li[data-event-kind="dead"]', { timeout: 5_000 });

    // Same document all along: no navigation, and what we left on window is still there.
    assert.equal(navigations, 1, 'the page did not reload or navigate');
    assert.equal(await page.evaluate('window.synktiMarker'), 42);
    assert.deepEqual(pageErrors, [], 'no script errors on the page');

    const shot = join(tmp, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`# node ${KILLED} suspect after ${suspectAfter} ms, dead after ${deadAfter} ms; screenshot: ${shot}`);
    t.diagnostic(`screenshot: ${shot}`);
    await page.close();
  });

  it('charts the last minutes from the agent\'s ring buffer: non-empty under load, the dead node marked', async (t) => {
    if (chromiumPath === undefined || browser === undefined || fleet === undefined) {
      t.skip('chromium not found (see the test above)');
      return;
    }
    const url = `http://127.0.0.1:${fleet.basePort}`;
    // Load through agent 0 until its history holds three samples with traffic (one every 5 s), bounded.
    const load = { stop: false, ok: 0, failed: 0 };
    const body = JSON.stringify({ model: 'synkti/fake-model', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 60, stream: true });
    const clients = Array.from({ length: 4 }, async () => {
      const until = Date.now() + 90_000;
      while (!load.stop && Date.now() < until) {
        const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(20_000) }).catch(() => undefined);
        const text = res === undefined ? '' : await res.text().catch(() => '');
        if (res?.status === 200 && text.trimEnd().endsWith('data: [DONE]')) load.ok++;
        else load.failed++;
      }
    });
    const page: Page = await browser.newPage({ viewport: { width: 1360, height: 1250 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    try {
      await page.goto(`${url}/`, { waitUntil: 'load', timeout: 30_000 });
      // Polled from here through locators: the page's CSP forbids evaluating strings in it.
      const plotted = (chart: string, series: string, points: number, ms: number) =>
        waitFor(`the ${chart} chart to plot ${series} with ${points} points`, async () => {
          const path = page.locator(`svg[data-chart="${chart}"] path[data-series="${series}"]`);
          const n = (await path.count()) === 0 ? 0 : Number(await path.getAttribute('data-points'));
          return n >= points ? true : undefined;
        }, ms, 250);
      await plotted('requests', 'requestsPerS', 3, 45_000);
      // The load goes on until every chart has plotted: the request chart's points may include
      // idle samples from before the load, so the TTFT and token charts can lag it by a sample.
      for (const [chart, series] of CHARTS) for (const s of series) await plotted(chart, s, 2, 30_000);
      load.stop = true;
      await Promise.all(clients);
      // The killed node of the test above is marked on the size chart, and the cost shows its savings.
      assert.ok((await page.locator('svg[data-chart="size"] line[data-event="dead"]').count()) >= 1, 'the dead node is marked');
      assert.match((await page.locator('#cost-note').textContent()) ?? '', /saves \d+% vs on-demand/);
      const history = (await (await fetch(`${url}/fleet/history`)).json()) as { samples: { requestsPerS: number; tokensPerS: number }[] };
      assert.ok(history.samples.some((x) => x.requestsPerS > 0 && x.tokensPerS > 0), 'the ring buffer saw the traffic');
      assert.equal(load.failed, 0, `${load.failed} requests failed under the chart load`);
      assert.deepEqual(pageErrors, [], 'no script errors on the page');
      const shot = SHOT_FOR_DOCS ?? join(tmp, 'dashboard-charts.png');
      await page.screenshot({ path: shot, fullPage: true });
      t.diagnostic(`${load.ok} streams under load; screenshot: ${shot}`);
    } finally {
      load.stop = true;
      await Promise.all(clients);
      await page.close();
    }
  });
});

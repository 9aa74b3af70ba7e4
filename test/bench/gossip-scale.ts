import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEAD_AFTER_MS, FORGET_AFTER_MS, HEARTBEAT_INTERVAL_MS, MembershipView } from '@synkti/fleet';
import { generateSwarmKey, Mesh, MESH_MAX_IDLE_CONNECTIONS, MESH_TARGET_CONNECTIONS, parseSwarmKey, type StateBody } from '@synkti/mesh';
import { sampleNodeState } from '@synkti/protocol';

/**
 * `npm run bench -- gossip --series 5,10,20,40 [--window-ms 15000] [--json]`
 *
 * The per-node cost of membership as the fleet grows: for each N, N `Mesh` nodes in this one
 * process (production heartbeat, 1 s), joined through the first, each with its view; after every
 * view sees all N alive and a settle time, a quiet window measures per node: accepted states per
 * second, gossipsub RPCs, messages (duplicates included) and bytes received per second,
 * connections, and the process's CPU per accepted state. The last lines fit each per-node
 * figure to a·N + b and project it to 100 and 1,000 nodes.
 */

const FLEET = 'bench-scale';
const JOIN_TIMEOUT_MS = 60_000;
const SETTLE_MS = 5_000;
/** Targets from issue #16 at 1,000 nodes. */
const TARGET_CPU_PERCENT = 2;
const TARGET_BYTES_PER_S = 100 * 1024;

export interface ScalePoint {
  nodes: number;
  joined: boolean;
  connectionsPerNode: { mean: number; max: number };
  perNode: { statesPerS: number; rpcsPerS: number; messagesPerS: number; bytesReceivedPerS: number; bytesSentPerS: number };
  /** Process CPU over the window divided by accepted states (all nodes). */
  cpuMicrosPerState: number;
  cpuPercentPerNode: number;
  prunedConnections: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (msg: string) => console.error(`[gossip-scale] ${msg}`);

function body(): StateBody {
  const { v, fleet, peerId, incarnation, seq, sentAt, addrs, leaving, ...rest } = sampleNodeState();
  return rest;
}

async function measure(n: number, windowMs: number): Promise<ScalePoint> {
  const dir = await mkdtemp(join(tmpdir(), 'synkti-gossip-scale-'));
  const swarmKey = parseSwarmKey(generateSwarmKey());
  const meshes: Mesh[] = [];
  const views: MembershipView[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const mesh = new Mesh({
        fleet: FLEET,
        stateDir: join(dir, `n${i}`),
        swarmKey,
        listen: ['/ip4/127.0.0.1/tcp/0'],
        bootstrap: i === 0 ? [] : meshes[0]!.multiaddrs().map((a) => (a.includes('/p2p/') ? a : `${a}/p2p/${meshes[0]!.peerId}`)),
        heartbeatMs: HEARTBEAT_INTERVAL_MS,
        forgetAfterMs: DEAD_AFTER_MS + FORGET_AFTER_MS,
      });
      const view = new MembershipView(FLEET);
      mesh.onState((state) => view.observe(state, Date.now()));
      await mesh.start();
      mesh.startHeartbeat(body);
      meshes.push(mesh);
      views.push(view);
    }
    const deadline = Date.now() + JOIN_TIMEOUT_MS;
    let joined = false;
    while (Date.now() < deadline) {
      if (views.every((v) => v.alive(Date.now()).length === n)) {
        joined = true;
        break;
      }
      await sleep(250);
    }
    if (!joined) log(`WARNING: N=${n}: not every view saw all ${n} alive within ${JOIN_TIMEOUT_MS} ms; measuring anyway`);
    await sleep(SETTLE_MS);
    const before = meshes.map((m) => ({ states: m.gossip.counters.received, traffic: { ...m.gossipTraffic! } }));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(windowMs);
    const cpu = process.cpuUsage(cpu0);
    const seconds = (performance.now() - t0) / 1000;
    let states = 0;
    let rpcs = 0;
    let messages = 0;
    let bytesIn = 0;
    let bytesOut = 0;
    meshes.forEach((m, i) => {
      const b = before[i]!;
      const t = m.gossipTraffic!;
      states += m.gossip.counters.received - b.states;
      rpcs += t.rpcsReceived - b.traffic.rpcsReceived;
      messages += t.messagesReceived - b.traffic.messagesReceived;
      bytesIn += t.bytesReceived - b.traffic.bytesReceived;
      bytesOut += t.bytesSent - b.traffic.bytesSent;
    });
    const connections = meshes.map((m) => m.libp2p.getConnections().length);
    const cpuMicros = cpu.user + cpu.system;
    return {
      nodes: n,
      joined,
      connectionsPerNode: { mean: connections.reduce((a, b) => a + b, 0) / n, max: Math.max(...connections) },
      perNode: {
        statesPerS: states / n / seconds,
        rpcsPerS: rpcs / n / seconds,
        messagesPerS: messages / n / seconds,
        bytesReceivedPerS: bytesIn / n / seconds,
        bytesSentPerS: bytesOut / n / seconds,
      },
      cpuMicrosPerState: states > 0 ? cpuMicros / states : Number.NaN,
      cpuPercentPerNode: (cpuMicros / 1000 / (seconds * 1000)) * 100 / n,
      prunedConnections: meshes.reduce((a, m) => a + m.prunedConnections, 0),
    };
  } finally {
    await Promise.all(meshes.map((m) => m.stop().catch(() => undefined)));
    await rm(dir, { recursive: true, force: true });
  }
}

/** Least-squares fit of y = a·x + b. */
function fit(xs: number[], ys: number[]): { a: number; b: number } {
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  const a = den === 0 ? 0 : num / den;
  return { a, b: my - a * mx };
}

export interface ScaleResult {
  date: string;
  loadavgAtStart: number[];
  heartbeatMs: number;
  connectionTarget: number;
  idleConnectionCap: number;
  points: ScalePoint[];
  projection: { nodes: number; bytesReceivedPerS: number; messagesPerS: number; cpuPercent: number; meetsBytes: boolean; meetsCpu: boolean }[];
}

export function project(points: ScalePoint[]): ScaleResult['projection'] {
  const xs = points.map((p) => p.nodes);
  const bytes = fit(xs, points.map((p) => p.perNode.bytesReceivedPerS));
  const msgs = fit(xs, points.map((p) => p.perNode.messagesPerS));
  const states = fit(xs, points.map((p) => p.perNode.statesPerS));
  // CPU per state is roughly constant; take the largest N's (the least start-up noise).
  const micros = points[points.length - 1]!.cpuMicrosPerState;
  return [100, 1_000].map((nodes) => {
    const bytesPerS = bytes.a * nodes + bytes.b;
    const cpuPercent = ((states.a * nodes + states.b) * micros) / 1e6 * 100;
    return { nodes, bytesReceivedPerS: bytesPerS, messagesPerS: msgs.a * nodes + msgs.b, cpuPercent, meetsBytes: bytesPerS < TARGET_BYTES_PER_S, meetsCpu: cpuPercent < TARGET_CPU_PERCENT };
  });
}

function print(r: ScaleResult): void {
  const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  console.log(`gossip cost per node (in one process; heartbeat ${r.heartbeatMs} ms; connector target ${r.connectionTarget}, idle cap ${r.idleConnectionCap}; load at start ${r.loadavgAtStart.map((l) => l.toFixed(2)).join(' / ')})`);
  console.log('   N | joined | conns mean/max | states/s | RPCs/s | msgs/s (dups) | KB/s in | KB/s out | CPU µs/state | CPU %/node');
  for (const p of r.points) {
    const q = p.perNode;
    console.log(`${String(p.nodes).padStart(4)} | ${p.joined ? 'yes   ' : 'NO    '} | ${f(p.connectionsPerNode.mean).padStart(6)} / ${String(p.connectionsPerNode.max).padStart(3)} | ${f(q.statesPerS).padStart(8)} | ${f(q.rpcsPerS).padStart(6)} | ${f(q.messagesPerS).padStart(13)} | ${f(q.bytesReceivedPerS / 1024).padStart(7)} | ${f(q.bytesSentPerS / 1024).padStart(8)} | ${f(p.cpuMicrosPerState, 0).padStart(12)} | ${f(p.cpuPercentPerNode, 2)}`);
  }
  for (const p of r.projection) {
    console.log(`projected N=${p.nodes}: ${f(p.bytesReceivedPerS / 1024)} KB/s in (target < 100: ${p.meetsBytes ? 'met' : 'MISSED'}), ${f(p.messagesPerS, 0)} msgs/s, ${f(p.cpuPercent, 2)} % of a core (target < 2: ${p.meetsCpu ? 'met' : 'MISSED'}) — linear fit over the measured N`);
  }
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { series: { type: 'string', default: '5,10,20,40' }, 'window-ms': { type: 'string', default: '15000' }, json: { type: 'boolean', default: false } }, allowPositionals: false, strict: false });
  const sizes = String(values.series).split(',').map(Number);
  if (sizes.length < 2 || sizes.some((n) => !Number.isInteger(n) || n < 2 || n > 99)) throw new Error('--series must list at least two node counts from 2 to 99, e.g. 5,10,20,40');
  const windowMs = Number(values['window-ms']);
  if (!Number.isFinite(windowMs) || windowMs < 1_000) throw new Error('--window-ms must be at least 1000');
  const result: ScaleResult = { date: new Date().toISOString(), loadavgAtStart: loadavg(), heartbeatMs: HEARTBEAT_INTERVAL_MS, connectionTarget: MESH_TARGET_CONNECTIONS, idleConnectionCap: MESH_MAX_IDLE_CONNECTIONS, points: [], projection: [] };
  for (const n of sizes) {
    log(`N=${n}: starting`);
    result.points.push(await measure(n, windowMs));
  }
  result.projection = project(result.points);
  if (values.json === true) console.log(JSON.stringify(result, null, 2));
  else print(result);
}

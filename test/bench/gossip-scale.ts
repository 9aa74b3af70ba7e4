import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEAD_AFTER_MS, FORGET_AFTER_MS, HEARTBEAT_INTERVAL_MS, KEEPALIVE_STATES_PER_HEARTBEAT, keepAlivePeriodMs, MembershipView } from '@synkti/fleet';
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
 * figure to a·(states received per second) + b and project it to 100 and 1,000 nodes, where the
 * keep-alive period (as the agent sets it) bounds that rate.
 */

const FLEET = 'bench-scale';
const JOIN_TIMEOUT_MS = 60_000;
const SETTLE_MS = 5_000;
/** Targets from issue #16 at 1,000 nodes. */
const TARGET_CPU_PERCENT = 2;
const TARGET_BYTES_PER_S = 100 * 1024;
/** Event-loop utilisation above which a point's figures are the process's, not the nodes'. */
const SATURATED_ELU = 0.8;

export interface ScalePoint {
  nodes: number;
  joined: boolean;
  /** Of the shared process over the window: near 1, the nodes starve each other and their figures are not theirs. */
  eventLoopUtilization: number;
  connectionsPerNode: { mean: number; max: number };
  perNode: { statesPerS: number; rpcsPerS: number; messagesPerS: number; bytesReceivedPerS: number; bytesSentPerS: number };
  /** Process CPU over the window divided by accepted states (all nodes). */
  cpuMicrosPerState: number;
  cpuPercentPerNode: number;
  prunedConnections: number;
  /** Connections opened per node per minute during the window (a settled swarm barely churns). */
  connectionOpensPerNodePerMin: number;
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
  let opens = 0;
  try {
    for (let i = 0; i < n; i++) {
      const view = new MembershipView(FLEET);
      const mesh = new Mesh({
        fleet: FLEET,
        stateDir: join(dir, `n${i}`),
        swarmKey,
        listen: ['/ip4/127.0.0.1/tcp/0'],
        bootstrap: i === 0 ? [] : meshes[0]!.multiaddrs().map((a) => (a.includes('/p2p/') ? a : `${a}/p2p/${meshes[0]!.peerId}`)),
        heartbeatMs: HEARTBEAT_INTERVAL_MS,
        // As the agent does: the keep-alive period grows with the fleet.
        keepAliveMs: () => keepAlivePeriodMs(HEARTBEAT_INTERVAL_MS, view.size),
        forgetAfterMs: DEAD_AFTER_MS + FORGET_AFTER_MS,
      });
      mesh.onState((state) => view.observe(state, Date.now()));
      await mesh.start();
      mesh.libp2p.addEventListener('connection:open', () => opens++);
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
    const elu0 = performance.eventLoopUtilization();
    const opens0 = opens;
    const t0 = performance.now();
    await sleep(windowMs);
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0).utilization;
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
      eventLoopUtilization: elu,
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
      connectionOpensPerNodePerMin: (opens - opens0) / n / (seconds / 60),
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
  projection: { nodes: number; statesPerS: number; bytesReceivedPerS: number; messagesPerS: number; cpuPercent: number; meetsBytes: boolean; meetsCpu: boolean }[];
  projectionRefused: string | null;
}

/**
 * Fits of the per-node figures against ln N, projected. Refused (empty, with the reason) when a
 * point did not join or the shared process was saturated: a figure from a half-joined or starved
 * swarm projects nothing true.
 */
export function project(points: ScalePoint[]): { projection: ScaleResult['projection']; refused: string | null } {
  if (points.length < 3) return { projection: [], refused: 'fewer than three sizes measured' };
  const short = points.filter((p) => !p.joined).map((p) => p.nodes);
  if (short.length > 0) return { projection: [], refused: `N=${short.join(', ')} never joined fully` };
  const saturated = points.filter((p) => p.eventLoopUtilization > SATURATED_ELU).map((p) => p.nodes);
  if (saturated.length > 0) return { projection: [], refused: `the shared process was saturated at N=${saturated.join(', ')} (event loop > ${SATURATED_ELU * 100} % busy)` };
  // The keep-alive budget holds the states a node receives per second constant in N, so per-node
  // cost is modelled as a + b·ln N: the log term is what is left (gossipsub's hop count, the
  // DHT's table). A fit that falls with N (noise on a flat cost) projects the largest measured
  // figure instead: never below what was seen.
  const xs = points.map((p) => Math.log(p.nodes));
  const model = (ys: number[]) => {
    const f = fit(xs, ys);
    return f.a >= 0 ? (n: number) => f.a * Math.log(n) + f.b : () => Math.max(...ys);
  };
  const bytes = model(points.map((p) => p.perNode.bytesReceivedPerS));
  const msgs = model(points.map((p) => p.perNode.messagesPerS));
  const cpu = model(points.map((p) => p.cpuPercentPerNode));
  const projection = [100, 1_000].map((nodes) => {
    const statesPerS = ((nodes - 1) * 1_000) / keepAlivePeriodMs(HEARTBEAT_INTERVAL_MS, nodes);
    const bytesPerS = bytes(nodes);
    const cpuPercent = cpu(nodes);
    return { nodes, statesPerS, bytesReceivedPerS: bytesPerS, messagesPerS: msgs(nodes), cpuPercent, meetsBytes: bytesPerS < TARGET_BYTES_PER_S, meetsCpu: cpuPercent < TARGET_CPU_PERCENT };
  });
  return { projection, refused: null };
}

function print(r: ScaleResult): void {
  const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  console.log(`gossip cost per node (in one process; heartbeat ${r.heartbeatMs} ms; connector target ${r.connectionTarget}, idle cap ${r.idleConnectionCap}; load at start ${r.loadavgAtStart.map((l) => l.toFixed(2)).join(' / ')})`);
  console.log(`states each node sends when nothing changes: every ${r.heartbeatMs} ms × max(1, N / ${KEEPALIVE_STATES_PER_HEARTBEAT})`);
  console.log('   N | joined | loop busy | conns mean/max | opens/min | states/s | RPCs/s | msgs/s (dups) | KB/s in | KB/s out | CPU µs/state | CPU %/node');
  for (const p of r.points) {
    const q = p.perNode;
    console.log(`${String(p.nodes).padStart(4)} | ${p.joined ? 'yes   ' : 'NO    '} | ${(p.eventLoopUtilization * 100).toFixed(0).padStart(7)} % | ${f(p.connectionsPerNode.mean).padStart(6)} / ${String(p.connectionsPerNode.max).padStart(3)} | ${f(p.connectionOpensPerNodePerMin).padStart(9)} | ${f(q.statesPerS).padStart(8)} | ${f(q.rpcsPerS).padStart(6)} | ${f(q.messagesPerS).padStart(13)} | ${f(q.bytesReceivedPerS / 1024).padStart(7)} | ${f(q.bytesSentPerS / 1024).padStart(8)} | ${f(p.cpuMicrosPerState, 0).padStart(12)} | ${f(p.cpuPercentPerNode, 2)}`);
  }
  if (r.projectionRefused !== null) console.log(`no projection to 100 and 1,000 nodes: ${r.projectionRefused}`);
  for (const p of r.projection) {
    console.log(`projected N=${p.nodes} (${f(p.statesPerS)} states/s per node): ${f(p.bytesReceivedPerS / 1024)} KB/s in (target < 100: ${p.meetsBytes ? 'met' : 'MISSED'}), ${f(p.messagesPerS, 0)} msgs/s, ${f(p.cpuPercent, 2)} % of a core (target < 2: ${p.meetsCpu ? 'met' : 'MISSED'}) — fit of per-node cost against ln N`);
  }
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { series: { type: 'string', default: '5,10,20,40' }, 'window-ms': { type: 'string', default: '15000' }, json: { type: 'boolean', default: false } }, allowPositionals: false, strict: false });
  const sizes = String(values.series).split(',').map(Number);
  if (sizes.length < 2 || sizes.some((n) => !Number.isInteger(n) || n < 2 || n > 99)) throw new Error('--series must list at least two node counts from 2 to 99, e.g. 5,10,20,40');
  const windowMs = Number(values['window-ms']);
  if (!Number.isFinite(windowMs) || windowMs < 1_000) throw new Error('--window-ms must be at least 1000');
  const result: ScaleResult = { date: new Date().toISOString(), loadavgAtStart: loadavg(), heartbeatMs: HEARTBEAT_INTERVAL_MS, connectionTarget: MESH_TARGET_CONNECTIONS, idleConnectionCap: MESH_MAX_IDLE_CONNECTIONS, points: [], projection: [], projectionRefused: null };
  for (const n of sizes) {
    log(`N=${n}: starting`);
    result.points.push(await measure(n, windowMs));
  }
  const projected = project(result.points);
  result.projection = projected.projection;
  result.projectionRefused = projected.refused;
  if (values.json === true) console.log(JSON.stringify(result, null, 2));
  else print(result);
}

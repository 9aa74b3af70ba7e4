import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive } from '../harness/local-up.js';

/**
 * Two Linux network namespaces joined by a bridge in the root namespace, for real partitions.
 * Every name carries the owning test process's PID, so a later run can tell a stale leftover
 * (its PID dead) from one a concurrent run still uses.
 */
export interface Side {
  ns: string;
  ip: string;
  /** The veth end on the bridge: setting it down cuts the side off. */
  hostVeth: string;
}

export interface Net {
  owner: number;
  bridge: string;
  majority: Side;
  minority: Side;
  /** Where the fleet's files live; removed with the rest. */
  dir: string;
}

const NS_RE = /^synkti-(?:maj|min)-(\d+)$/;
const BRIDGE_RE = /^synbr(\d+)$/;
const DIR_RE = /^synkti-partition-(\d+)$/;

/** Names only: nothing is created. Interface names stay within the kernel's 15 characters. */
export function netNames(owner: number): Omit<Net, 'majority' | 'minority'> & { majority: Omit<Side, 'ip'>; minority: Omit<Side, 'ip'> } {
  return {
    owner,
    bridge: `synbr${owner}`,
    majority: { ns: `synkti-maj-${owner}`, hostVeth: `synvj${owner}` },
    minority: { ns: `synkti-min-${owner}`, hostVeth: `synvn${owner}` },
    dir: join(tmpdir(), `synkti-partition-${owner}`),
  };
}

export function ip(...args: string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(`ip ${args.join(' ')}: ${stderr || (err as Error).message}`, { cause: err });
  }
}

function quietly(fn: () => unknown): void {
  try {
    fn();
  } catch {
    // cleanup goes on past whatever is already gone
  }
}

function namespaces(): string[] {
  return ip('netns', 'list').split('\n').map((l) => l.split(' ')[0]!).filter((n) => n !== '');
}

/** PIDs whose network namespace is `ns`: agents, engines and replacements they launched there. */
export function pidsIn(ns: string): number[] {
  if (!namespaces().includes(ns)) return [];
  return ip('netns', 'pids', ns).split('\n').map(Number).filter((p) => Number.isInteger(p) && p > 0);
}

/** The namespace a process runs in ('' for the root namespace). */
export function nsOf(pid: number): string {
  return ip('netns', 'identify', String(pid)).trim();
}

/** A free /24: another run (or anything else) may hold 10.213.x.0/24 on some interface. */
function freeSubnet(owner: number): string {
  const used = ip('-o', '-4', 'addr', 'show');
  for (let k = 0; k < 250; k++) {
    const x = ((owner + k) % 250) + 1;
    if (!used.includes(`10.213.${x}.`)) return `10.213.${x}`;
  }
  throw new Error('no free 10.213.x.0/24 subnet');
}

/** Creates the namespaces (those not made yet), bridge and veths; the caller must have registered `destroyNet` first. */
export function createNet(owner: number): Net {
  const names = netNames(owner);
  for (const side of [names.majority, names.minority]) if (!namespaces().includes(side.ns)) ip('netns', 'add', side.ns);
  const subnet = freeSubnet(owner);
  ip('link', 'add', names.bridge, 'type', 'bridge');
  ip('addr', 'add', `${subnet}.1/24`, 'dev', names.bridge);
  ip('link', 'set', names.bridge, 'up');
  const sides = ([['majority', 2], ['minority', 3]] as const).map(([key, host]): Side => {
    const side = names[key];
    const inner = side.hostVeth.replace('synv', 'synp');
    ip('link', 'add', side.hostVeth, 'type', 'veth', 'peer', 'name', inner);
    ip('link', 'set', inner, 'netns', side.ns);
    ip('-n', side.ns, 'addr', 'add', `${subnet}.${host}/24`, 'dev', inner);
    ip('-n', side.ns, 'link', 'set', inner, 'up');
    // Agents talk to their own engine and metadata endpoint over loopback.
    ip('-n', side.ns, 'link', 'set', 'lo', 'up');
    ip('link', 'set', side.hostVeth, 'master', names.bridge);
    ip('link', 'set', side.hostVeth, 'up');
    return { ...side, ip: `${subnet}.${host}` };
  });
  return { ...names, majority: sides[0]!, minority: sides[1]! };
}

/** Adds a namespace; null, or why this machine cannot make one. */
export function tryAddNamespace(ns: string): string | null {
  try {
    ip('netns', 'add', ns);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export function setLink(veth: string, state: 'up' | 'down'): void {
  ip('link', 'set', veth, state);
}

/**
 * Random packet loss on a side's link, or none: every packet to and from that side is dropped
 * with this probability. With `tc netem` on both veth ends where the kernel has sch_netem;
 * otherwise with iptables' statistic match inside the side's namespace (loopback exempt, so
 * an agent still reaches its own engine). Either goes away with the namespace and veths.
 */
export function setLoss(side: Side, percent: number | null, how: LossMethod): void {
  if (how === 'netem') {
    const inner = side.hostVeth.replace('synv', 'synp');
    for (const [ns, dev] of [[null, side.hostVeth], [side.ns, inner]] as const) {
      const prefix = ns === null ? [] : ['ip', 'netns', 'exec', ns];
      run([...prefix, 'tc', ...(percent === null ? ['qdisc', 'del', 'dev', dev, 'root'] : ['qdisc', 'replace', 'dev', dev, 'root', 'netem', 'loss', `${percent}%`])]);
    }
    return;
  }
  const inNs = ['ip', 'netns', 'exec', side.ns, 'iptables', '-w', '5'];
  for (const chain of ['INPUT', 'OUTPUT'] as const) run([...inNs, '-F', chain]);
  if (percent === null) return;
  const probability = String(percent / 100);
  run([...inNs, '-A', 'INPUT', '!', '-i', 'lo', '-m', 'statistic', '--mode', 'random', '--probability', probability, '-j', 'DROP']);
  run([...inNs, '-A', 'OUTPUT', '!', '-o', 'lo', '-m', 'statistic', '--mode', 'random', '--probability', probability, '-j', 'DROP']);
}

export type LossMethod = 'netem' | 'iptables';

/** Packets dropped so far by the loss rules (both directions), to show the loss was real. */
export function droppedPackets(side: Side, how: LossMethod): number {
  const count = (argv: string[], re: RegExp): number => {
    const out = execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 10_000 });
    return [...out.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
  };
  if (how === 'iptables') return count(['ip', 'netns', 'exec', side.ns, 'iptables', '-w', '5', '-L', '-v', '-n', '-x'], /^\s*(\d+)\s+\d+\s+DROP/gm);
  return count(['tc', '-s', 'qdisc', 'show', 'dev', side.hostVeth], /dropped (\d+)/g);
}

/** How packet loss can be made here, or why it cannot. */
export function lossMethod(side: Side): LossMethod | { cannot: string } {
  const reasons: string[] = [];
  for (const how of ['netem', 'iptables'] as const) {
    try {
      setLoss(side, 0, how);
      setLoss(side, null, how);
      return how;
    } catch (err) {
      reasons.push(`${how}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return { cannot: reasons.join('; ') };
}

function run(argv: string[]): void {
  try {
    execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  } catch (err) {
    throw new Error(`${argv.join(' ')}: ${String((err as { stderr?: unknown }).stderr ?? '').trim() || (err as Error).message}`, { cause: err });
  }
}

function killGroupAndPid(pid: number): void {
  quietly(() => process.kill(-pid, 'SIGKILL'));
  quietly(() => process.kill(pid, 'SIGKILL'));
}

/**
 * Synchronous (it also runs from an 'exit' handler): kills the given PIDs and every process in
 * the owner's namespaces, by PID and process group (agents and engines lead their own), then deletes namespaces (their veth ends go with them), the
 * bridge and the fleet directory.
 */
export function destroyNet(owner: number, pids: Iterable<number> = []): void {
  const names = netNames(owner);
  const ours = new Set([names.majority.ns, names.minority.ns]);
  // A listed PID may have exited and been reused: only one still in our namespaces is ours.
  for (const pid of pids) if (pid > 0 && pid !== process.pid) quietly(() => ours.has(nsOf(pid)) && killGroupAndPid(pid));
  for (const side of [names.majority, names.minority]) {
    quietly(() => {
      for (const pid of pidsIn(side.ns)) killGroupAndPid(pid);
    });
  }
  // A namespace outlives its deletion while a process runs in it: wait for the kills to land.
  const deadline = Date.now() + 5_000;
  const busy = () => [names.majority, names.minority].some((s) => { try { return pidsIn(s.ns).some(alive); } catch { return false; } });
  while (busy() && Date.now() < deadline) execFileSync('sleep', ['0.05']);
  for (const side of [names.majority, names.minority]) {
    quietly(() => ip('netns', 'del', side.ns));
    quietly(() => ip('link', 'del', side.hostVeth));
  }
  quietly(() => ip('link', 'del', names.bridge));
  quietly(() => rmSync(names.dir, { recursive: true, force: true }));
}

/** A process's start time (clock ticks since boot): with its PID, an identity that survives PID reuse. */
export function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** What of the owner's network is still there (empty when all is gone). */
export function leftovers(owner: number): string[] {
  const names = netNames(owner);
  const out = namespaces().filter((n) => n === names.majority.ns || n === names.minority.ns);
  const links = ip('-o', 'link', 'show').split('\n').map((l) => l.split(': ')[1]?.split('@')[0] ?? '');
  out.push(...links.filter((l) => [names.bridge, names.majority.hostVeth, names.minority.hostVeth].includes(l)));
  return out;
}

/** Removes what runs killed midway left behind: only names whose owner PID is dead. */
export function removeStale(): number[] {
  const owners = new Set<number>();
  const collect = (name: string, re: RegExp) => {
    const m = re.exec(name);
    if (m !== null && Number(m[1]) !== process.pid && !alive(Number(m[1]))) owners.add(Number(m[1]));
  };
  for (const ns of namespaces()) collect(ns, NS_RE);
  for (const line of ip('-o', 'link', 'show', 'type', 'bridge').split('\n')) collect(line.split(': ')[1] ?? '', BRIDGE_RE);
  for (const name of readdirSync(tmpdir())) collect(name, DIR_RE);
  for (const owner of owners) destroyNet(owner);
  return [...owners];
}

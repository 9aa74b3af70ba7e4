import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isProcessAlive } from '@synkti/cloud';
import { cliPath } from './paths.js';
import { waitFor } from './wait.js';
import { readRuntimeFile } from 'synkti-agent';

export interface LocalFleetProcess {
  child: ChildProcess;
  output: string[];
  dir: string;
  basePort: number;
  exited: Promise<number | null>;
}

export const FAST_AGENT_ARGS = ['--agent-arg=--heartbeat-ms=200', '--agent-arg=--suspect-after-ms=700', '--agent-arg=--dead-after-ms=2000'];

/** Runs `synkti local up` and resolves once it prints `ready`. */
export async function localUp(dir: string, nodes: number, basePort: number, extra: string[] = FAST_AGENT_ARGS): Promise<LocalFleetProcess> {
  const child = spawn(process.execPath, [cliPath, 'local', 'up', '--nodes', String(nodes), '--base-port', String(basePort), '--dir', dir, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stdout!.on('data', (d: Buffer) => output.push(...d.toString().split('\n')));
  child.stderr!.on('data', (d: Buffer) => output.push(...d.toString().split('\n')));
  await waitFor('local up to print ready', () => (output.includes('ready') ? true : child.exitCode !== null ? Promise.reject(new Error(`local up exited: ${output.join('\n')}`)) : undefined), 90_000);
  return { child, output, dir, basePort, exited };
}

export async function fleetPids(dir: string): Promise<number[]> {
  const fleet = JSON.parse(await readFile(join(dir, 'fleet.json'), 'utf8')) as { nodes: { pid: number; stateDir: string }[] };
  const pids: number[] = [];
  for (const node of fleet.nodes) {
    pids.push(node.pid);
    const enginePid = (await readRuntimeFile(node.stateDir))?.enginePid;
    if (enginePid) pids.push(enginePid);
  }
  return pids;
}

export { isProcessAlive as alive };

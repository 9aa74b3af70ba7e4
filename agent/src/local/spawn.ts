import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SynktiError } from '@synkti/interface';
import { type LocalFleetFile, readFleetFile } from './fleet-file.js';
import { AGENT_NODE_FLAGS } from '../node-flags.js';

/** Port layout around the base port P: API P+i, libp2p P+100+i, engine P+200+i, metadata P+300+i. */
export const PORT_OFFSETS = { api: 0, p2p: 100, engine: 200, metadata: 300 } as const;

const cliPath = fileURLToPath(new URL('../cli.js', import.meta.url));

export interface LocalNodePorts {
  apiPort: number;
  p2pPort: number;
  enginePort: number;
  metadataPort: number;
}

export function portsOf(basePort: number, index: number): LocalNodePorts {
  return {
    apiPort: basePort + PORT_OFFSETS.api + index,
    p2pPort: basePort + PORT_OFFSETS.p2p + index,
    enginePort: basePort + PORT_OFFSETS.engine + index,
    metadataPort: basePort + PORT_OFFSETS.metadata + index,
  };
}

/** The node arguments (the agent's V8 flags, then `synkti agent` and its flags) of node `index` of a local fleet. */
export function localAgentArgs(fleet: LocalFleetFile, node: { index: number; instanceId: string; slot: string }, bootstrap: string[]): string[] {
  const ports = portsOf(fleet.basePort, node.index);
  const stateDir = join(fleet.dir, `node-${node.index}`);
  const host = fleet.bindHost ?? '127.0.0.1';
  return [
    ...AGENT_NODE_FLAGS, cliPath, 'agent',
    '--state-dir', stateDir,
    '--swarm-key-file', fleet.swarmKeyFile,
    '--listen', `/ip4/${host}/tcp/${ports.p2pPort}`,
    '--api-host', host,
    '--api-port', String(ports.apiPort),
    '--engine-runtime', 'fake',
    '--engine-port', String(ports.enginePort),
    '--engine-model', fleet.model,
    '--provider', 'local',
    '--local-fleet-dir', fleet.dir,
    '--target-size', String(fleet.targetSize),
    '--launch-timeout-ms', String(fleet.launchTimeoutMs),
    '--slot', node.slot,
    '--instance-id', node.instanceId,
    '--lifecycle', 'spot',
    '--emulate-imds-port', String(ports.metadataPort),
    '--imds-poll-ms', '500',
    '--log-format', 'json',
    ...(bootstrap.length > 0 ? ['--bootstrap', bootstrap.join(',')] : []),
    ...fleet.agentArgs,
  ];
}

/**
 * Starts one agent of a local fleet as its own process (its own process group, so it outlives
 * the agent that launched it, as an EC2 instance outlives its launcher). Logs go to its
 * state directory. Returns the PID.
 */
export async function spawnLocalAgent(dir: string, node: { index: number; instanceId: string; slot: string }, bootstrap: string[]): Promise<number> {
  const fleet = await readFleetFile(dir);
  const stateDir = join(fleet.dir, `node-${node.index}`);
  await mkdir(stateDir, { recursive: true });
  const log = openSync(join(stateDir, 'agent.log'), 'a');
  const child = spawn(process.execPath, localAgentArgs(fleet, node, bootstrap), { stdio: ['ignore', log, log], detached: true });
  if (child.pid === undefined) throw new SynktiError('SPAWN_FAILED', `cannot start local agent ${node.index}`);
  child.unref();
  return child.pid;
}

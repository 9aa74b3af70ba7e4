import { readFile } from 'node:fs/promises';
import { type Logger, SynktiError } from '@synkti/interface';
import { readSwarmKey } from '@synkti/mesh';
import { imdsRegion } from './cloud-wiring.js';
import type { AgentConfig } from './config/index.js';
import { fetchSwarmKeyFromSsm } from './ssm.js';

export class SwarmKeyMissingError extends SynktiError {
  constructor(path: string) {
    super('SWARM_KEY_MISSING', `no swarm key at ${path}; create one with \`synkti keygen --out ${path}\` and share it with every agent of the fleet`);
  }
}

/** The fleet's pre-shared key: fetched from SSM first when configured, then read from its file. */
export async function agentSwarmKey(config: AgentConfig, log: Logger): Promise<Uint8Array> {
  if (config.swarmKeySsmParameter !== undefined) {
    // The SDK reads no region from the instance metadata: ask it, so the user data need not name one.
    const region = config.ec2Region ?? (config.provider === 'ec2' ? await imdsRegion(config.imdsEndpoint) : undefined);
    await fetchSwarmKeyFromSsm({ parameter: config.swarmKeySsmParameter, path: config.swarmKeyFile, region });
    log.info({ parameter: config.swarmKeySsmParameter, path: config.swarmKeyFile }, 'swarm key fetched from SSM');
  }
  try {
    await readFile(config.swarmKeyFile);
  } catch {
    throw new SwarmKeyMissingError(config.swarmKeyFile);
  }
  return readSwarmKey(config.swarmKeyFile);
}

import { ec2Provider, imdsClient, imdsWatcher, type ImdsWatcher, instanceIdentity, isProcessAlive, loadImdsSdk, localProvider, startFakeImds, type FakeImds, TAG_SLOT, TAG_TOKEN } from '@synkti/cloud';
import type { Placement } from '@synkti/fleet';
import type { CloudProvider, Clock, Logger } from '@synkti/interface';
import type { ProviderInfo } from '@synkti/protocol';
import { ConfigError, type AgentConfig } from './config/index.js';
import { join } from 'node:path';
import { readFleetFile } from './local/fleet-file.js';
import { killGroup } from './local/kill.js';
import { portsOf, spawnLocalAgent } from './local/spawn.js';
import { readRuntimeFile } from './runtime-file.js';

/** The EC2 instance metadata service address. */
export const EC2_IMDS_ENDPOINT = 'http://169.254.169.254';

export interface CloudWiring {
  provider: CloudProvider | undefined;
  watcher: ImdsWatcher | undefined;
  /** Local mode's emulated metadata endpoint, served by this agent. */
  emulatedImds: FakeImds | undefined;
  providerInfo: ProviderInfo;
  placements: Placement[];
  /** The fleet's replacement rule launched this instance (it carries the synkti:token tag); null when unknown. */
  launchedByFleet: boolean | null;
}

/** `type@subnet[@on-demand]` → Placement, in the configured order (every peer walks the same one). */
export function parsePlacements(specs: readonly string[]): Placement[] {
  return specs.map((spec) => {
    const [instanceType, subnet, market] = spec.split('@');
    return { instanceType: instanceType!, subnet: subnet!, ...(market === 'on-demand' ? { onDemand: true } : {}) };
  });
}

/** The TCP port of a multiaddr such as /ip4/0.0.0.0/tcp/4001. */
function tcpPortOf(addr: string | undefined): number | undefined {
  const match = addr === undefined ? null : /\/tcp\/(\d+)/.exec(addr);
  const port = match === null ? Number.NaN : Number(match[1]);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

/** How an agent gets its cloud wiring: from its config (`wireCloud`), or handed in by a test. */
export type CloudWiringFactory = (config: AgentConfig, deps: { clock: Clock; logger: Logger }) => Promise<CloudWiring>;

export async function wireCloud(config: AgentConfig, deps: { clock: Clock; logger: Logger }): Promise<CloudWiring> {
  let placements = parsePlacements(config.placements);
  let provider: CloudProvider | undefined;
  const info: ProviderInfo = {
    kind: config.provider === 'none' ? 'static' : config.provider,
    instanceId: config.instanceId ?? null,
    instanceType: config.instanceType ?? null,
    zone: config.zone ?? null,
    lifecycle: config.lifecycle,
    slot: config.slot ?? null,
  };
  let emulatedImds: FakeImds | undefined;
  let launchedByFleet: boolean | null = null;
  if (config.emulateImdsPort !== undefined) {
    emulatedImds = await startFakeImds({ host: '127.0.0.1', port: config.emulateImdsPort, identity: { instanceId: info.instanceId ?? 'local', instanceType: 'local', availabilityZone: 'local', lifecycle: 'spot' } });
  }
  const imdsEndpoint = config.imdsEndpoint ?? emulatedImds?.url ?? (config.provider === 'ec2' ? EC2_IMDS_ENDPOINT : undefined);
  if (imdsEndpoint !== undefined) await loadImdsSdk();

  if (config.provider === 'ec2') {
    if (config.ec2LaunchTemplate === undefined) throw new ConfigError('invalid config: ec2LaunchTemplate (--ec2-launch-template, SYNKTI_EC2_LAUNCH_TEMPLATE) is required with the ec2 provider');
    if (placements.length === 0) throw new ConfigError('invalid config: placements (--placements, SYNKTI_PLACEMENTS) must name at least one instanceType@subnet with the ec2 provider');
    const fromImds = await fillFromImds(info, imdsEndpoint ?? EC2_IMDS_ENDPOINT, deps.logger);
    const imdsRegion = fromImds.region;
    launchedByFleet = fromImds.launchedByFleet;
    // The region IMDS states, never the zone minus its last letter: that guess is wrong in
    // Local Zones and Wavelength Zones (us-west-2-lax-1a is in us-west-2). Config wins.
    const region = config.ec2Region ?? imdsRegion;
    if (region === undefined) throw new ConfigError('invalid config: ec2Region (--ec2-region, SYNKTI_EC2_REGION) is required when the instance metadata cannot tell the region (placement/region)');
    const template = config.ec2LaunchTemplate.startsWith('lt-') ? { id: config.ec2LaunchTemplate } : { name: config.ec2LaunchTemplate };
    const agentPort = tcpPortOf(config.announce[0] ?? config.listen[0]);
    provider = ec2Provider({ region, launchTemplate: { ...template, version: config.ec2LaunchTemplateVersion }, ...(agentPort !== undefined ? { agentPort } : {}), ...(config.ec2Endpoint !== undefined ? { endpoint: config.ec2Endpoint } : {}) }, { clock: deps.clock, logger: deps.logger });
  } else if (config.provider === 'local') {
    if (config.localFleetDir === undefined) throw new ConfigError('invalid config: localFleetDir (--local-fleet-dir, SYNKTI_LOCAL_FLEET_DIR) is required with the local provider');
    const dir = config.localFleetDir;
    const fleetFile = await readFleetFile(dir).catch(() => undefined);
    // A replacement gets this agent's own bootstrap list, as a launch template would bake it in:
    // when those nodes are gone it finds the fleet through the provider's listing.
    provider = localProvider({
      dir: `${dir}/provider`,
      nodesDir: dir,
      spawn: (node) => spawnLocalAgent(dir, node, config.bootstrap),
      // Where a node's agent listens, when the fleet binds one address every agent can reach.
      ...(fleetFile !== undefined && (fleetFile.bindHost ?? '127.0.0.1') !== '0.0.0.0'
        ? { addrsOf: (index: number) => [`/ip4/${fleetFile.bindHost ?? '127.0.0.1'}/tcp/${portsOf(fleetFile.basePort, index).p2pPort}`] }
        : {}),
      onTerminated: async (index) => {
        const runtime = await readRuntimeFile(join(dir, `node-${index}`));
        if (runtime?.enginePid != null && isProcessAlive(runtime.enginePid)) killGroup(runtime.enginePid);
      },
    });
    if (placements.length === 0) placements = [{ instanceType: 'local', subnet: 'local' }];
  }
  const watcher = imdsEndpoint === undefined ? undefined : imdsWatcher({ endpoint: imdsEndpoint, pollIntervalMs: config.imdsPollMs }, { clock: deps.clock, logger: deps.logger });
  return { provider, watcher, emulatedImds, providerInfo: info, placements, launchedByFleet };
}

/**
 * On EC2 the node's identity comes from the metadata service; configured values win. Returns
 * the region IMDS states and whether the fleet launched this instance (its synkti:token tag);
 * each undefined or null when it cannot be read.
 */
async function fillFromImds(info: ProviderInfo, endpoint: string, logger: Logger): Promise<{ region: string | undefined; launchedByFleet: boolean | null }> {
  try {
    const client = imdsClient({ endpoint });
    const identity = await instanceIdentity({ endpoint }, { client }, AbortSignal.timeout(5_000));
    info.instanceId ??= identity.instanceId;
    info.instanceType ??= identity.instanceType;
    info.zone ??= identity.availabilityZone;
    if (info.lifecycle === 'unknown') info.lifecycle = identity.lifecycle;
    // Instance tags are readable here when the launch template enables instance metadata tags.
    const tag = (key: string) => client.get(`latest/meta-data/tags/instance/${key}`, AbortSignal.timeout(5_000)).catch(() => undefined);
    info.slot ??= (await tag(TAG_SLOT))?.trim() || null;
    // A fleet launch carries its token as a tag; a hand-launched instance (an anchor) does not.
    const token = await tag(TAG_TOKEN);
    return { region: identity.region, launchedByFleet: token == null ? null : token.trim().length > 0 };
  } catch (err) {
    logger.warn({ err }, 'cannot read the instance identity from the metadata service');
    return { region: undefined, launchedByFleet: null };
  }
}

/** The region this EC2 instance is in, as its metadata service states it; undefined off EC2 or when it does not answer. */
export async function imdsRegion(endpoint: string = EC2_IMDS_ENDPOINT): Promise<string | undefined> {
  const text = await imdsClient({ endpoint }).get('latest/meta-data/placement/region', AbortSignal.timeout(5_000)).catch(() => undefined);
  return text?.trim() || undefined;
}

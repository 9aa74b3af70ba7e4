import { type CloudProvider, CloudErrorCode, type FleetInstance, type InstanceQuery, type LaunchRequest, type LaunchResult, SynktiError } from '@synkti/interface';
import { type LocalInstanceRecord, LocalLedger } from './ledger.js';
import { isProcessAlive } from './process.js';

/** Starts one agent process for a new local instance; returns its PID. */
export type LocalSpawn = (node: { index: number; instanceId: string; slot: string }) => Promise<number>;

export interface LocalProviderInit {
  /** The ledger directory shared by every agent of the local fleet. */
  dir: string;
  /** Where node state directories are created (`node-<index>`). */
  nodesDir: string;
  spawn: LocalSpawn;
  /** Where the agent of local instance `index` listens (libp2p multiaddrs), for discovery. */
  addrsOf?: (index: number) => string[];
  /**
   * Terminating an EC2 instance takes everything on it; a local instance is its agent process
   * plus what that agent started in other process groups (its engine, which outlives an agent
   * killed hard so that a restarted agent can adopt it). Called on terminate, after the agent
   * is killed: the caller kills these.
   */
  onTerminated?: (index: number) => Promise<void>;
}

export const localInstanceId = (index: number): string => `local-${index}`;

/**
 * The local provider: an "instance" is an agent process on this machine. Launches are
 * idempotent on the token through the shared ledger, as EC2's ClientToken is.
 */
export function localProvider(init: LocalProviderInit): CloudProvider & { ledger: LocalLedger } {
  const ledger = new LocalLedger(init.dir);
  const ready = ledger.init();
  // Pending until its process is recorded; gone once terminated or its process ended.
  const live = (r: LocalInstanceRecord) => !r.terminated && (r.pid === null || isProcessAlive(r.pid));
  const listed = (r: LocalInstanceRecord): FleetInstance => ({ instanceId: r.instanceId, slot: r.slot, state: r.pid === null ? 'pending' : 'running', lifecycle: 'spot', token: r.token, launchedAt: Date.parse(r.createdAt), addrs: init.addrsOf?.(r.index) ?? [] });
  return {
    kind: 'local',
    ledger,
    async launch(request: LaunchRequest): Promise<LaunchResult> {
      await ready;
      const params = JSON.stringify({ fleet: request.fleet, slot: request.slot, placement: request.placement, replaces: request.replaces });
      if (!(await ledger.claimToken(request.token, params))) {
        const earlier = await ledger.readToken(request.token);
        if (earlier.params !== params) throw new SynktiError(CloudErrorCode.IDEMPOTENT_PARAMETER_MISMATCH, `token ${request.token} was used with other parameters`);
        return { instanceId: earlier.instanceId, lifecycle: request.placement.onDemand ? 'on-demand' : 'spot', existing: true };
      }
      const index = await ledger.reserveIndex(init.nodesDir);
      const instanceId = localInstanceId(index);
      const record: LocalInstanceRecord = { instanceId, index, fleet: request.fleet, slot: request.slot, token: request.token, replaces: request.replaces, pid: null, createdAt: new Date().toISOString(), terminated: false };
      await ledger.writeInstance(record);
      await ledger.bindToken(request.token, params, instanceId);
      const pid = await init.spawn({ index, instanceId, slot: request.slot });
      await ledger.writeInstance({ ...record, pid });
      return { instanceId, lifecycle: request.placement.onDemand ? 'on-demand' : 'spot', existing: false };
    },
    async listInstances(fleet: string): Promise<FleetInstance[]> {
      await ready;
      return (await ledger.instances())
        .filter((r) => r.fleet === fleet && live(r))
        .map(listed);
    },
    async findInstances(query: InstanceQuery): Promise<FleetInstance[]> {
      await ready;
      const byId = 'instanceIds' in query;
      const wanted = new Set(byId ? query.instanceIds : query.tokens);
      return (await ledger.instances())
        .filter((r) => (byId ? wanted.has(r.instanceId) : r.token !== null && wanted.has(r.token)) && live(r))
        .map(listed);
    },
    async terminate(instanceId: string): Promise<void> {
      await ready;
      const record = await ledger.readInstance(instanceId);
      if (record === undefined) throw new SynktiError(CloudErrorCode.PROVIDER_FAILED, `no local instance ${instanceId}`);
      // Recorded first: a node that terminates itself (it left the fleet) is still listed right.
      await ledger.writeInstance({ ...record, terminated: true });
      // Like EC2's terminate: the node goes now, it gets no chance to drain. A node terminating
      // itself exits on its own right after.
      if (record.pid !== null && record.pid !== process.pid && isProcessAlive(record.pid)) {
        process.kill(record.pid, 'SIGKILL');
        await init.onTerminated?.(record.index);
      }
    },
  };
}

import { indirectProbeHelpers, type PeerSnapshot } from '@synkti/fleet';
import type { Logger } from '@synkti/interface';

/** Direct pings of a silent peer before asking others. */
export const FENCE_PROBES = 3;
export const FENCE_PROBE_TIMEOUT_MS = 1_000;
/** Whole exchange with one helper of an indirect probe: its own 2 s ping plus the round trip. */
export const INDIRECT_PROBE_TIMEOUT_MS = 3_000;

/** The slice of the mesh the check uses. */
export interface ProbeMesh {
  reachable(peerId: string, timeoutMs: number): Promise<boolean>;
  reachableVia(helper: string, target: string, timeoutMs: number): Promise<boolean>;
}

/**
 * Before a silent peer's instance is terminated: probe its agent directly, a few times, then
 * through a few other peers at once (SWIM's indirect probe). A GC pause, a congested link or a
 * bad link between this node and that one silences gossip without making the node gone; a
 * cut-off or dead one answers nobody. No peer known for the instance: nothing to probe, the
 * quorum decides. True means confirmed gone.
 */
export async function confirmGone(mesh: ProbeMesh, peers: readonly PeerSnapshot[], selfId: string, instanceId: string, log: Logger): Promise<boolean> {
  const peer = peers.find((p) => p.state.provider.instanceId === instanceId);
  if (peer === undefined) return true;
  for (let i = 0; i < FENCE_PROBES; i++) if (await mesh.reachable(peer.peerId, FENCE_PROBE_TIMEOUT_MS)) return false;
  const helpers = indirectProbeHelpers(peers, peer.peerId, selfId);
  const answers = await Promise.all(helpers.map((h) => mesh.reachableVia(h, peer.peerId, INDIRECT_PROBE_TIMEOUT_MS)));
  const vouching = helpers.filter((_, i) => answers[i]);
  if (vouching.length > 0) {
    log.warn({ instanceId, peer: peer.peerId, vouching }, 'a silent peer answers other peers; not fencing it');
    return false;
  }
  log.warn({ instanceId, peer: peer.peerId, askedHelpers: helpers }, 'a silent peer answers neither this node nor others: confirmed gone');
  return true;
}

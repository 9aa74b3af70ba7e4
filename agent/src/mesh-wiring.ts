import { keepAlivePeriodMs, type MembershipView } from '@synkti/fleet';
import type { Clock, Logger } from '@synkti/interface';
import { Mesh, type StateBody } from '@synkti/mesh';
import type { ScaleDecision } from '@synkti/protocol';
import type { AgentConfig } from './config/index.js';
import { LoadPublisher } from './load-publisher.js';
import { NeighbourProbe } from './neighbour-probe.js';
import { SuspicionGossip } from './suspicion.js';

export interface MeshDeps {
  config: AgentConfig;
  swarmKey: Uint8Array;
  view: MembershipView;
  clock: Clock;
  logger: Logger;
  /** Where the provider says the fleet's agents are. */
  discover: () => Promise<string[]>;
  /** A scale decision heard in a peer's state. */
  adoptScale: (decision: ScaleDecision) => void;
  /** The view gained a peer, or one restarted or left; `whole` when a state sync brought it (one refresh for many states). */
  membershipChanged: (whole: boolean) => void;
  stopping: () => boolean;
  load: () => StateBody['load'];
}

/** The mesh, started, and the shells beside it that read and feed the membership view. */
export interface MeshParts {
  mesh: Mesh;
  suspicions: SuspicionGossip;
  neighbourProbe: NeighbourProbe;
  loadPublisher: LoadPublisher;
}

/** Starts the mesh with gossip feeding `view`, then the suspicion, neighbour-probe and load-publishing shells. */
export async function startMesh(d: MeshDeps): Promise<MeshParts> {
  const { config: c, view, clock, logger } = d;
  const mesh = new Mesh({
    fleet: c.fleet,
    stateDir: c.stateDir,
    swarmKey: d.swarmKey,
    listen: c.listen,
    announce: c.announce,
    bootstrap: c.bootstrap,
    heartbeatMs: c.heartbeatMs,
    keepAliveMs: () => keepAlivePeriodMs(c.heartbeatMs, view.size),
    fleetSize: () => view.size,
    syncSource: () => view.alive(clock.now()).map((p) => ({ state: p.state, ageMs: p.ageMs })),
    forgetAfterMs: c.deadAfterMs + c.forgetAfterMs,
    ipColocationWhitelist: c.ipColocationWhitelist,
    discover: d.discover,
    forwardMux: c.forwardMux,
    clock,
    logger,
  });
  const suspicions = new SuspicionGossip({ view, clock, logger, self: () => mesh.peerId, published: () => mesh.lastPublished, publishNow: () => void mesh.publishNow() });
  // States heard while the mesh starts go to the view only: suspicions start with the own peer ID known.
  let started = false;
  mesh.onState((state, _from, ageMs) => {
    // Before the view: a departing decider's last messages carry its decision and then drop it from the view.
    if (state.scale !== undefined && state.fleet === c.fleet) d.adoptScale(state.scale);
    // A state relayed by a state sync arrived at its helper ageMs ago: silence counts from then.
    const now = clock.now();
    const outcome = view.observe(state, now, ageMs === undefined ? now : now - Math.max(0, ageMs));
    if (outcome === 'left' || outcome === 'restarted' || outcome === 'new-peer') d.membershipChanged(ageMs !== undefined);
    if (started) suspicions.onState(state);
  });
  mesh.onPeerDisconnect((peerId) => {
    if (!d.stopping()) suspicions.suspect(peerId);
  });
  await mesh.start();
  view.setSelf(mesh.peerId);
  started = true;
  const neighbourProbe = new NeighbourProbe({ mesh, view, clock, logger, self: () => mesh.peerId, suspect: (peerId) => suspicions.suspect(peerId) });
  neighbourProbe.start();
  const loadPublisher = new LoadPublisher({
    clock,
    heartbeatMs: c.heartbeatMs,
    fleetSize: () => view.size,
    published: () => (d.stopping() ? undefined : mesh.lastPublished),
    load: d.load,
    publishNow: () => void mesh.publishNow(),
  });
  return { mesh, suspicions, neighbourProbe, loadPublisher };
}

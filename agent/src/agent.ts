import { writeRuntimeFile } from './runtime-file.js';
import { type CloudWiring, type CloudWiringFactory, wireCloud } from './cloud-wiring.js';
import type { InterruptionHandler } from './interruption.js';
import type { Replacer } from './replacer.js';
import type { Autoscaler } from './autoscaler.js';
import type { HistorySampler } from './history-sampler.js';
import { confirmGone } from './fence-probe.js';
import type { SuspicionGossip } from './suspicion.js';
import type { LoadPublisher } from './load-publisher.js';
import type { NeighbourProbe } from './neighbour-probe.js';
import { type FleetWiringDeps, newAutoscaler, newInterruptionHandler, newReplacer } from './fleet-wiring.js';
import { agentSwarmKey } from './swarm-key.js';
import { type FleetEvent, MembershipView } from '@synkti/fleet';
import { type EngineConfigInput, type EngineSupervisor, engineSupervisor } from '@synkti/engine';
import type { AgentMetrics, FleetSource, HttpServer, LocalEngineTarget, RequestPath } from '@synkti/gateway';
import { type Clock, type Logger, type Rng, type Startable, systemClock, type TimerHandle } from '@synkti/interface';
import type { Mesh, StateBody } from '@synkti/mesh';
import type { AgentConfig } from './config/index.js';
import { engineConfigFrom } from './engine-config.js';
import { drainNode } from './drain.js';
import { SELF_TERMINATE_TIMEOUT_MS } from './exit-codes.js';
import { AGENT_VERSION } from './version.js';
import { FleetEventLog } from './fleet-events.js';
import { startGateway } from './gateway-wiring.js';
import { startMesh } from './mesh-wiring.js';
import { loadOf, stateBodyOf } from './state-body.js';

export { SwarmKeyMissingError } from './swarm-key.js';

/** Budget of one provider listing made to find peers. */
const DISCOVERY_TIMEOUT_MS = 10_000;

/**
 * One Synkti agent: the mesh, the membership view fed by gossip, and the HTTP API. Starts its
 * parts in order and stops them in reverse; a clean stop says goodbye to the fleet first.
 */
export class Agent implements Startable {
  readonly config: AgentConfig;
  readonly view: MembershipView;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #events: FleetEventLog;
  #mesh: Mesh | undefined;
  #engine: EngineSupervisor | undefined;
  #requestPath: RequestPath | undefined;
  #localEngine: LocalEngineTarget | undefined;
  #draining: Promise<void> | undefined;
  #http: HttpServer | undefined;
  #cloud: CloudWiring | undefined;
  #replacer: Replacer | undefined;
  #autoscaler: Autoscaler | undefined;
  #history: HistorySampler | undefined;
  #interruptions: InterruptionHandler | undefined;
  #suspicions: SuspicionGossip | undefined;
  #neighbourProbe: NeighbourProbe | undefined;
  #loadPublisher: LoadPublisher | undefined;
  #leaveListeners = new Set<(reason: string) => void>();
  #heartbeatTick: TimerHandle | undefined;
  #apiUrl: string | undefined;
  #stopping = false;
  #started = false;

  readonly #rng: Rng;

  readonly #wireCloud: CloudWiringFactory;

  /**
   * `wire` replaces the cloud wiring (provider, IMDS watcher) the config describes: tests hand the
   * agent a provider's ledger in memory and drive it on a manual clock.
   */
  constructor(config: AgentConfig, logger: Logger, clock: Clock = systemClock, rng: Rng = Math.random, wire: CloudWiringFactory = wireCloud) {
    this.#rng = rng;
    this.#wireCloud = wire;
    this.config = config;
    this.#log = logger.child({ component: 'agent' });
    this.#clock = clock;
    this.view = new MembershipView(config.fleet, {
      suspectAfterMs: config.suspectAfterMs,
      deadAfterMs: config.deadAfterMs,
      forgetAfterMs: config.forgetAfterMs,
    });
    this.logger = logger;
    this.#events = new FleetEventLog({ view: this.view, clock, logger: this.#log, heartbeatMs: config.heartbeatMs, onDead: (peerId) => this.#requestPath?.peerLost(peerId, 'dead') });
  }

  readonly logger: Logger;
  metrics: AgentMetrics | undefined;

  get peerId(): string {
    if (this.#mesh === undefined) throw new Error('agent not started');
    return this.#mesh.peerId;
  }

  get mesh(): Mesh {
    if (this.#mesh === undefined) throw new Error('agent not started');
    return this.#mesh;
  }

  get engine(): EngineSupervisor | undefined {
    return this.#engine;
  }

  get requestPath(): RequestPath | undefined {
    return this.#requestPath;
  }

  /** False once the agent drains (SIGTERM, interruption notice, surplus): new work goes elsewhere. */
  get accepting(): boolean {
    return this.#draining === undefined && (this.#interruptions?.accepting ?? true);
  }

  get apiPort(): number {
    if (this.#http === undefined) throw new Error('agent not started');
    return this.#http.port;
  }

  get apiUrl(): string {
    this.#apiUrl ??= this.config.apiUrl ?? `http://${displayHost(this.config.apiHost)}:${this.apiPort}`;
    return this.#apiUrl;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    // Validate everything before opening any socket: a config error must not leave a half-started agent.
    const engineConfig = engineConfigFrom(this.config);
    const mesh = await this.#startMesh(await agentSwarmKey(this.config, this.#log));
    if (engineConfig !== undefined) this.#createEngine(engineConfig, mesh);
    const cloud = await this.#wireCloud(this.config, { clock: this.#clock, logger: this.logger });
    this.#cloud = cloud;
    this.#wireFleet(mesh, cloud);
    await this.#startGateway(mesh);
    mesh.startHeartbeat(() => this.#stateBody());
    await this.#engine?.start();
    if (cloud.watcher !== undefined) {
      cloud.watcher.onNotice((notice) => this.#interruptions?.notice(notice));
      await cloud.watcher.start();
    }
    this.#scheduleHeartbeatTick();
    await this.#writeRuntimeFile();
    this.#events.start();
    this.#log.info({ peerId: mesh.peerId, fleet: this.config.fleet, api: this.apiUrl, addrs: mesh.multiaddrs() }, 'agent started');
  }

  /** The mesh, the view it feeds, and the suspicion and neighbour-probe shells beside it. */
  async #startMesh(swarmKey: Uint8Array): Promise<Mesh> {
    const parts = await startMesh({
      config: this.config,
      swarmKey,
      view: this.view,
      clock: this.#clock,
      logger: this.logger,
      discover: () => this.#discoverPeers(),
      adoptScale: (decision) => this.#autoscaler?.adopt(decision),
      membershipChanged: (whole) => (whole ? this.#events.refreshSoon() : this.#events.refresh()),
      stopping: () => this.#stopping,
      load: () => loadOf(this.#engine?.snapshot()),
    });
    this.#mesh = parts.mesh;
    this.#suspicions = parts.suspicions;
    this.#neighbourProbe = parts.neighbourProbe;
    this.#loadPublisher = parts.loadPublisher;
    return parts.mesh;
  }

  #createEngine(engineConfig: EngineConfigInput, mesh: Mesh): void {
    const engine = engineSupervisor({ config: engineConfig }, { clock: this.#clock, rng: this.#rng, logger: this.logger });
    // Peers learn of a change of engine state at once, not at the next heartbeat.
    engine.onTransition(() => {
      if (this.#stopping) return;
      void mesh.publishNow();
      void this.#writeRuntimeFile();
    });
    this.#engine = engine;
  }

  /** The fleet's shells: interruptions, the replacer around the fleet core, the autoscaler. */
  #wireFleet(mesh: Mesh, cloud: CloudWiring): void {
    const deps: FleetWiringDeps = { config: this.config, view: this.view, clock: this.#clock, logger: this.logger, self: () => mesh.peerId, publishNow: () => void mesh.publishNow(), metrics: () => this.metrics };
    this.#interruptions = newInterruptionHandler(deps, (serveForMs, relayForMs, reason) => this.drain(serveForMs, relayForMs, reason), (reason) => this.#emitLeave(reason));
    if (this.config.spotReturnAfterMs > 0 && cloud.providerInfo.lifecycle === 'on-demand' && cloud.launchedByFleet === true && cloud.placements.some((p) => p.onDemand !== true)) {
      this.#interruptions.scheduleSpotReturn(this.config.spotReturnAfterMs);
    }
    if (this.config.targetSize <= 0) return;
    this.#replacer = newReplacer(deps, cloud, {
      target: () => this.#autoscaler?.target() ?? this.config.targetSize,
      confirmGone: (instanceId) => confirmGone(mesh, this.view.snapshot(this.#clock.now()), mesh.peerId, instanceId, this.#log),
      onSurplus: (reason) => this.#interruptions?.drainAsSurplus(reason),
    });
    if (cloud.provider !== undefined && this.config.autoscale) this.#autoscaler = newAutoscaler(deps, this.#replacer);
  }

  /** The request path (local engine or a peer), its metrics and history, and the HTTP API. */
  async #startGateway(mesh: Mesh): Promise<void> {
    const c = this.config;
    const gateway = await startGateway({
      config: c,
      mesh,
      view: this.view,
      fleet: this.#fleetSource(),
      clock: this.#clock,
      rng: this.#rng,
      logger: this.logger,
      engine: () => this.#engine,
      accepting: () => this.accepting,
      fleetTarget: () => (c.targetSize > 0 ? (this.#autoscaler?.target() ?? c.targetSize) : null),
    });
    this.#localEngine = gateway.localEngine;
    this.#requestPath = gateway.requestPath;
    this.metrics = gateway.metrics;
    this.#history = gateway.history;
    this.#http = gateway.http;
  }

  /**
   * A planned departure: stop taking work and tell the fleet at once, let served requests run
   * for `serveForMs`, hand the rest over, stop the engine, and keep relaying this agent's own
   * clients' streams for up to `relayForMs`. Concurrent calls share one drain.
   */
  drain(serveForMs: number, relayForMs: number, reason: string): Promise<void> {
    if (this.#draining !== undefined) return this.#draining;
    const now = this.#clock.now();
    const localEngine = this.#localEngine;
    const requestPath = this.#requestPath;
    this.#draining = (async () => {
      await this.#mesh?.publishNow();
      if (localEngine === undefined || requestPath === undefined) return;
      await drainNode(
        {
          clock: this.#clock,
          logger: this.logger,
          served: () => localEngine.running,
          handOverAll: () => localEngine.handOverAll(),
          relayed: () => requestPath.activeResponses,
          endRelayed: (why) => requestPath.endAll(why),
          stopEngine: async (budgetMs) => this.#engine?.drain(budgetMs),
        },
        { serveUntil: now + serveForMs, relayUntil: now + Math.max(serveForMs, relayForMs), reason },
      );
    })();
    return this.#draining;
  }

  /** SIGTERM: drain (served work for drainTimeoutMs, own clients' streams for drainRelayTimeoutMs), then stop. */
  async shutdown(): Promise<void> {
    if (!this.#started) return;
    await this.drain(this.config.drainTimeoutMs, this.config.drainRelayTimeoutMs, 'shutdown (SIGTERM)').catch((err: unknown) => this.#log.error({ err }, 'drain failed; stopping anyway'));
    await this.stop();
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    this.#stopping = true;
    this.#events.stop();
    if (this.#heartbeatTick !== undefined) this.#clock.clearTimeout(this.#heartbeatTick);
    this.#history?.stop();
    this.#interruptions?.stop();
    this.#suspicions?.stop();
    this.#neighbourProbe?.stop();
    await this.#cloud?.watcher?.stop();
    await this.#mesh?.goodbye().catch((err: unknown) => this.#log.warn({ err }, 'goodbye failed'));
    await this.#engine?.stop();
    await this.#http?.stop();
    this.#localEngine?.close();
    await this.#mesh?.stop();
    await this.#cloud?.emulatedImds?.close();
    this.#log.info({}, 'agent stopped');
  }

  /** Who this process is and what it runs, for `synkti local` (kill, logs) and operators. */
  async #writeRuntimeFile(): Promise<void> {
    if (this.#mesh === undefined || this.#http === undefined) return;
    await writeRuntimeFile(this.config.stateDir, {
      pid: process.pid,
      peerId: this.#mesh.peerId,
      apiUrl: this.apiUrl,
      enginePid: this.#engine?.snapshot().pid ?? null,
      engineState: this.#engine?.state() ?? null,
    }).catch((err: unknown) => this.#log.warn({ err }, 'cannot write the runtime file'));
  }

  /**
   * Leaves the fleet for good after a drain (interruption, surplus): stops every part, then
   * terminates this node's own instance through the provider, so nothing stays billed. Resolves
   * true when the provider accepted the termination (or there is no instance to terminate).
   */
  async leaveFleet(reason: string): Promise<boolean> {
    await this.stop();
    const provider = this.#cloud?.provider;
    const instanceId = this.#cloud?.providerInfo.instanceId ?? null;
    if (provider === undefined || instanceId === null) {
      this.#log.warn({ reason }, 'left the fleet; no provider instance to terminate (static node)');
      return true;
    }
    try {
      await provider.terminate(instanceId, AbortSignal.timeout(SELF_TERMINATE_TIMEOUT_MS));
      this.#log.warn({ reason, instanceId, provider: provider.kind }, 'left the fleet; own instance terminated');
      return true;
    } catch (err) {
      this.#log.error({ err, reason, instanceId }, 'left the fleet but could not terminate the own instance; the unit shuts the machine down instead');
      return false;
    }
  }

  /** Called when the node has drained after an interruption (or as surplus) and should exit. */
  onLeave(listener: (reason: string) => void): () => void {
    this.#leaveListeners.add(listener);
    return () => this.#leaveListeners.delete(listener);
  }

  get replacer(): Replacer | undefined {
    return this.#replacer;
  }

  #emitLeave(reason: string): void {
    this.#log.warn({ reason }, 'leaving the fleet');
    for (const listener of this.#leaveListeners) listener(reason);
  }

  /** Where the provider says the fleet's agents are: no bootstrap node is needed to (re)join. */
  async #discoverPeers(): Promise<string[]> {
    const provider = this.#cloud?.provider;
    if (provider === undefined) return [];
    const instances = await provider.listInstances(this.config.fleet, AbortSignal.timeout(DISCOVERY_TIMEOUT_MS));
    const self = this.#cloud?.providerInfo.instanceId ?? null;
    return instances.filter((i) => i.instanceId !== self).flatMap((i) => i.addrs ?? []);
  }

  #scheduleHeartbeatTick(): void {
    this.#heartbeatTick = this.#clock.setTimeout(() => {
      try {
        this.#autoscaler?.tick();
        this.#replacer?.tick();
        this.#loadPublisher?.tick();
      } catch (err) {
        this.#log.error({ err }, 'fleet tick failed');
      }
      this.#scheduleHeartbeatTick();
    }, this.config.heartbeatMs);
  }

  recentEvents(): readonly FleetEvent[] {
    return this.#events.events;
  }

  #fleetSource(): FleetSource {
    return {
      selfId: this.peerId,
      fleet: this.config.fleet,
      now: () => this.#clock.now(),
      peers: () => this.view.snapshot(this.#clock.now()),
      events: () => this.#events.events,
    };
  }

  #stateBody(): StateBody {
    return stateBodyOf({
      engine: this.#engine?.snapshot(),
      draining: this.#draining !== undefined || (this.#interruptions?.draining ?? false),
      providerInfo: this.#cloud?.providerInfo,
      interruption: this.#interruptions?.interruption ?? null,
      launches: this.#replacer?.launchesInFlight() ?? [],
      fenced: this.#replacer?.fencedInstances() ?? [],
      suspects: this.#suspicions?.suspects(),
      scale: this.#autoscaler?.decision(),
      apiUrl: this.apiUrl,
      agentVersion: AGENT_VERSION,
    });
  }
}

function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

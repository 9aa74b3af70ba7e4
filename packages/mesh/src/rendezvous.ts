import type { Clock, Logger, TimerHandle } from '@synkti/interface';
import { deadlineSignal } from '@synkti/interface';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import { MAX_RENDEZVOUS_PEERS, RENDEZVOUS_CHECK_MS, RENDEZVOUS_FLEET_SPACING_MS, RENDEZVOUS_INTERVAL_MS, RENDEZVOUS_QUERY_TIMEOUT_MS, RENDEZVOUS_RETRY_MS } from './constants.js';
import type { MeshLibp2p } from './node.js';

/** A peer the rendezvous found, with the addresses its provider record carries. */
export interface RendezvousPeer {
  peerId: string;
  addrs: string[];
}

const encoder = new TextEncoder();

/**
 * The period between one agent's rendezvous rounds in a fleet of `fleetSize`: at least
 * RENDEZVOUS_INTERVAL_MS, and long enough that the whole fleet runs about one round per
 * RENDEZVOUS_FLEET_SPACING_MS (each round costs the key's closest peers a request or two).
 */
export function rendezvousIntervalMs(fleetSize: number): number {
  return Math.max(RENDEZVOUS_INTERVAL_MS, Math.max(1, fleetSize) * RENDEZVOUS_FLEET_SPACING_MS);
}

/**
 * The fleet's rendezvous key on the DHT: derived from the fleet name and the swarm key, so
 * only members of this swarm can name it and two fleets sharing a swarm never meet by mistake.
 */
export async function rendezvousKey(fleet: string, swarmKey: Uint8Array): Promise<CID> {
  const keyDigest = (await sha256.digest(swarmKey)).digest;
  const label = encoder.encode(`synkti-rendezvous/v1\0${fleet}\0`);
  const bytes = new Uint8Array(label.length + keyDigest.length);
  bytes.set(label);
  bytes.set(keyDigest, label.length);
  return CID.createV1(raw.code, await sha256.digest(bytes));
}

/**
 * The third source of peers (after the bootstrap list and the provider's listing): every agent
 * announces itself as a provider of the fleet's rendezvous key and looks the key up, so any one
 * live peer leads to all the others — no fixed node. Runs only while connected (the DHT needs a
 * first peer), soon after the first connection and then every rendezvousIntervalMs(fleet size).
 */
export class DhtRendezvous {
  readonly #node: MeshLibp2p;
  readonly #key: CID;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #found: (peers: RendezvousPeer[]) => void;
  readonly #fleetSize: () => number;
  readonly #random: () => number;
  #timer: TimerHandle | undefined;
  #nextAt = 0;
  #busy: AbortController | undefined;
  #running = false;

  constructor(node: MeshLibp2p, key: CID, clock: Clock, log: Logger, found: (peers: RendezvousPeer[]) => void, fleetSize: () => number = () => 1, random: () => number = Math.random) {
    this.#node = node;
    this.#fleetSize = fleetSize;
    this.#random = random;
    this.#key = key;
    this.#clock = clock;
    this.#log = log;
    this.#found = found;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#busy?.abort();
  }

  #schedule(): void {
    if (!this.#running) return;
    this.#timer = this.#clock.setTimeout(() => this.#check(), RENDEZVOUS_CHECK_MS);
  }

  #check(): void {
    const now = this.#clock.now();
    const connected = this.#node.getConnections().length > 0;
    // Alone: the first round after the next connection comes at once.
    if (!connected && this.#busy === undefined) this.#nextAt = 0;
    if (this.#busy === undefined && now >= this.#nextAt && connected) {
      void this.round().then((ok) => {
        // Spread over half to one and a half periods, so agents that started together drift apart.
        const period = ok ? rendezvousIntervalMs(this.#fleetSize()) * (0.5 + this.#random()) : RENDEZVOUS_RETRY_MS;
        this.#nextAt = this.#clock.now() + period;
      });
    }
    this.#schedule();
  }

  /** One announce-and-look-up round; resolves false when it failed (retried sooner). */
  async round(): Promise<boolean> {
    const abort = new AbortController();
    this.#busy = abort;
    const signal = deadlineSignal(RENDEZVOUS_QUERY_TIMEOUT_MS, abort.signal);
    try {
      const dht = this.#node.services.dht;
      for await (const _ of dht.provide(this.#key, { signal }));
      const self = this.#node.peerId.toString();
      const peers = new Map<string, RendezvousPeer>();
      for await (const event of dht.findProviders(this.#key, { signal })) {
        if (event.name !== 'PROVIDER') continue;
        for (const p of event.providers) {
          const peerId = p.id.toString();
          if (peerId === self || p.multiaddrs.length === 0 || peers.size >= MAX_RENDEZVOUS_PEERS) continue;
          peers.set(peerId, { peerId, addrs: p.multiaddrs.map((a) => a.toString()) });
        }
        if (peers.size >= MAX_RENDEZVOUS_PEERS) break;
      }
      this.#log.debug({ found: peers.size }, 'rendezvous round');
      if (peers.size > 0) this.#found([...peers.values()]);
      return true;
    } catch (err) {
      if (this.#running) this.#log.debug({ err }, 'rendezvous round failed; will retry');
      return false;
    } finally {
      this.#busy = undefined;
    }
  }
}

import type { GossipSub, Message } from '@libp2p/gossipsub';
import { TopicValidatorResult } from '@libp2p/gossipsub';
import type { Logger } from '@synkti/interface';
import { decodeNodeState, encodeNodeState, type NodeState, stateTopic } from '@synkti/protocol';

export interface GossipCounters {
  published: number;
  publishFailed: number;
  received: number;
  rejected: number;
}

/**
 * `from` is the peer the state came through; `ageMs` how long ago it arrived there, for a state
 * relayed by a state sync (absent for gossip, which arrives now).
 */
export type StateListener = (state: NodeState, from: string, ageMs?: number) => void;
export type RejectListener = (from: string, reason: string) => void;

/**
 * The state topic: validates every message before gossipsub forwards it (a rejected message
 * stops there and lowers its sender's score) and hands accepted states to listeners.
 */
export class StateGossip {
  readonly topic: string;
  readonly counters: GossipCounters = { published: 0, publishFailed: 0, received: 0, rejected: 0 };
  readonly #pubsub: GossipSub;
  readonly #fleet: string;
  readonly #log: Logger;
  readonly #listeners = new Set<StateListener>();
  readonly #rejectListeners = new Set<RejectListener>();
  // The validator already decoded the bytes; the message event reuses the result.
  readonly #decoded = new WeakMap<Uint8Array, NodeState>();

  constructor(pubsub: GossipSub, fleet: string, log: Logger) {
    this.#pubsub = pubsub;
    this.#fleet = fleet;
    this.topic = stateTopic(fleet);
    this.#log = log;
  }

  start(): void {
    this.#pubsub.topicValidators.set(this.topic, (peer, msg) => this.#validate(peer.toString(), msg));
    this.#pubsub.addEventListener('message', this.#onMessage);
    this.#pubsub.subscribe(this.topic);
  }

  stop(): void {
    this.#pubsub.removeEventListener('message', this.#onMessage);
    this.#pubsub.topicValidators.delete(this.topic);
  }

  onState(listener: StateListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onReject(listener: RejectListener): () => void {
    this.#rejectListeners.add(listener);
    return () => this.#rejectListeners.delete(listener);
  }

  async publish(state: NodeState): Promise<void> {
    try {
      await this.#pubsub.publish(this.topic, encodeNodeState(state));
      this.counters.published++;
    } catch (err) {
      this.counters.publishFailed++;
      this.#log.warn({ err, seq: state.seq }, 'state publish failed');
    }
  }

  /** Publishes raw bytes, bypassing validation: only for tests of a misbehaving peer. */
  async publishRaw(bytes: Uint8Array): Promise<void> {
    await this.#pubsub.publish(this.topic, bytes);
  }

  #validate(propagator: string, msg: Message): TopicValidatorResult {
    const reason = this.#check(msg);
    if (reason === null) return TopicValidatorResult.Accept;
    this.counters.rejected++;
    const from = msg.type === 'signed' ? msg.from.toString() : propagator;
    this.#log.warn({ from, propagator, reason }, 'rejected state message');
    for (const listener of this.#rejectListeners) listener(from, reason);
    return TopicValidatorResult.Reject;
  }

  #check(msg: Message): string | null {
    if (msg.type !== 'signed') return 'unsigned message';
    const result = decodeNodeState(msg.data);
    if (!result.ok) return result.reason;
    if (result.state.fleet !== this.#fleet) return `fleet ${result.state.fleet} is not ${this.#fleet}`;
    // The signature proves who wrote the message; a peer may only speak for itself.
    if (result.state.peerId !== msg.from.toString()) return `peerId ${result.state.peerId} is not the signer`;
    this.#decoded.set(msg.data, result.state);
    return null;
  }

  readonly #onMessage = (evt: CustomEvent<Message>): void => {
    const msg = evt.detail;
    if (msg.topic !== this.topic || msg.type !== 'signed') return;
    const state = this.#decoded.get(msg.data);
    if (state === undefined) return;
    this.counters.received++;
    for (const listener of this.#listeners) listener(state, msg.from.toString());
  };
}

import type { Connection, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import type { Logger } from '@synkti/interface';
import { decodeNodeState, encodeNodeState, MAX_STATE_MESSAGE_BYTES, type NodeState, SYNC_PROTOCOL } from '@synkti/protocol';
import * as lp from 'it-length-prefixed';
import { pipe } from 'it-pipe';
import { readStream } from './forward/stream-source.js';
import type { MeshLibp2p } from './node.js';

/**
 * State sync on join (memberlist's push-pull, one way): a node that has just connected asks one
 * peer for every state that peer holds alive, so it knows the fleet at once instead of after
 * each peer's next keep-alive (which is slow in a large fleet, see keepAlivePeriodMs). Wire: the
 * requester closes its side at once; the helper sends length-prefixed frames, each a state's age
 * at the helper (u32 big-endian, ms) and the state as gossiped, and closes.
 *
 * The states are the helper's word, not their authors' signatures: like everything else inside
 * the swarm key, a member is trusted. An older version than one already held is ignored as usual.
 */

/** States one sync carries at most (a view's own bound). */
export const MAX_SYNC_STATES = 4_096;
/** The whole exchange, dial included: a state a second late is still worth more than waiting for gossip. */
export const SYNC_TIMEOUT_MS = 5_000;
/** Sync streams one connection may carry at once, each way (libp2p counts per connection); a joiner asks once. */
const MAX_INBOUND_SYNCS = 4;
/** Ages above this are clamped: a held state older than that is near dead anyway. */
const MAX_AGE_MS = 0xffff_ffff;

/** A state as another peer holds it: `ageMs` since it arrived there. */
export interface SyncedState {
  state: NodeState;
  ageMs: number;
}

/** Serves sync requests with whatever `source` holds at that moment. */
export async function handleSyncRequests(node: MeshLibp2p, source: () => SyncedState[], log: Logger): Promise<void> {
  await node.handle(
    SYNC_PROTOCOL,
    (stream: Stream, connection: Connection) => {
      void serveSync(stream, source).catch((err: unknown) => {
        log.debug({ err, from: connection.remotePeer.toString() }, 'sync request failed');
        stream.abort(err instanceof Error ? err : new Error(String(err)));
      });
    },
    { maxInboundStreams: MAX_INBOUND_SYNCS, maxOutboundStreams: MAX_INBOUND_SYNCS, runOnLimitedConnection: false },
  );
}

async function serveSync(stream: Stream, source: () => SyncedState[]): Promise<void> {
  for (const entry of source().slice(0, MAX_SYNC_STATES)) {
    const state = encodeNodeState(entry.state);
    const frame = new Uint8Array(4 + state.byteLength);
    new DataView(frame.buffer).setUint32(0, Math.min(MAX_AGE_MS, Math.max(0, Math.round(entry.ageMs))));
    frame.set(state, 4);
    for (const chunk of lp.encode([frame])) if (!stream.send(chunk)) await stream.onDrain({ signal: AbortSignal.timeout(SYNC_TIMEOUT_MS) });
  }
  await stream.close();
}

/**
 * Asks `peerId` for the states it holds. Frames that do not decode are skipped (and counted);
 * a broken or late exchange yields what arrived before it broke, and the error.
 */
export async function requestSync(node: MeshLibp2p, peerId: string, fleet: string): Promise<{ states: SyncedState[]; rejected: number; error?: Error }> {
  const signal = AbortSignal.timeout(SYNC_TIMEOUT_MS);
  const states: SyncedState[] = [];
  let rejected = 0;
  let stream: Stream | undefined;
  try {
    stream = await node.dialProtocol(peerIdFromString(peerId), SYNC_PROTOCOL, { signal });
    await stream.close({ signal });
    // The deadline also ends the read: a stream that already closed cannot be aborted any more.
    for await (const raw of pipe(readStream(stream, signal), (src) => lp.decode(src, { maxDataLength: 4 + MAX_STATE_MESSAGE_BYTES }))) {
      const frame = raw.subarray();
      const decoded = frame.byteLength > 4 ? decodeNodeState(frame.subarray(4)) : { ok: false as const };
      if (!decoded.ok || decoded.state.fleet !== fleet) {
        rejected++;
        continue;
      }
      states.push({ state: decoded.state, ageMs: new DataView(frame.buffer, frame.byteOffset).getUint32(0) });
      if (states.length >= MAX_SYNC_STATES) break;
    }
    return { states, rejected };
  } catch (err) {
    return { states, rejected, error: err instanceof Error ? err : new Error(String(err)) };
  } finally {
    stream?.abort(new Error('sync done'));
  }
}

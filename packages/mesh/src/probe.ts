import type { Connection, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import type { Logger } from '@synkti/interface';
import { PROBE_PROTOCOL } from '@synkti/protocol';
import { readStream } from './forward/stream-source.js';
import type { MeshLibp2p } from './node.js';

/**
 * Indirect probes (SWIM's ping-req): a peer asks another "can you reach P?"; the helper pings P
 * and answers one byte. Wire: the requester sends the target's peer ID (UTF-8) and closes its
 * side; the helper answers 0x01 (P answered a ping in time) or 0x00, and closes.
 */

/** Most probe requests a node serves at once: they cost a ping each, and nobody needs more. */
export const MAX_INBOUND_PROBES = 8;
/** Longest peer ID a request may name (an Ed25519 peer ID is 52 characters). */
const MAX_PEER_ID_CHARS = 128;
/** The helper's ping for one request: like the fencer's own direct ping, plus slack for a busy helper. */
export const HELPER_PING_TIMEOUT_MS = 2_000;

type Ping = (peerId: string, timeoutMs: number) => Promise<boolean>;

/** Serves probe requests: each pings the named peer with `timeoutMs` and answers. */
export async function handleProbeRequests(node: MeshLibp2p, ping: Ping, pingMs: number, log: Logger): Promise<void> {
  await node.handle(
    PROBE_PROTOCOL,
    (stream: Stream, connection: Connection) => {
      void serveProbe(stream, ping, pingMs).catch((err: unknown) => {
        log.debug({ err, from: connection.remotePeer.toString() }, 'probe request failed');
        stream.abort(err instanceof Error ? err : new Error(String(err)));
      });
    },
    { maxInboundStreams: MAX_INBOUND_PROBES, maxOutboundStreams: MAX_INBOUND_PROBES, runOnLimitedConnection: false },
  );
}

async function serveProbe(stream: Stream, ping: Ping, pingMs: number): Promise<void> {
  let text = '';
  for await (const chunk of readStream(stream)) {
    text += new TextDecoder().decode(chunk.subarray());
    if (text.length > MAX_PEER_ID_CHARS) throw new Error('probe request too long');
  }
  let target: string;
  try {
    target = peerIdFromString(text).toString();
  } catch {
    throw new Error('probe request names no valid peer ID');
  }
  const ok = await ping(target, pingMs);
  stream.send(new Uint8Array([ok ? 1 : 0]));
  await stream.close();
}

/**
 * Asks `helper` whether it reaches `target`, within `timeoutMs` for the whole exchange. True
 * only on the helper's yes: no answer, a refusal or a broken stream is "not confirmed".
 */
export async function probeVia(node: MeshLibp2p, helper: string, target: string, timeoutMs: number): Promise<boolean> {
  const signal = AbortSignal.timeout(timeoutMs);
  let stream: Stream | undefined;
  try {
    stream = await node.dialProtocol(peerIdFromString(helper), PROBE_PROTOCOL, { signal });
    const opened = stream;
    signal.addEventListener('abort', () => opened.abort(new Error('probe timed out')), { once: true });
    opened.send(new TextEncoder().encode(target));
    await opened.close();
    for await (const chunk of readStream(opened)) {
      const bytes = chunk.subarray();
      if (bytes.byteLength > 0) return bytes[0] === 1;
    }
    return false;
  } catch {
    return false;
  } finally {
    stream?.abort(new Error('probe done'));
  }
}

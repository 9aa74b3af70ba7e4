import { noise } from '@chainsafe/libp2p-noise';
import { type GossipSub, gossipsub, type GossipsubOpts, StrictSign } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import type { PrivateKey } from '@libp2p/interface';
import { type KadDHT, kadDHT, passthroughMapper } from '@libp2p/kad-dht';
import { type Ping, ping } from '@libp2p/ping';
import { preSharedKey } from '@libp2p/pnet';
import { tcp } from '@libp2p/tcp';
import { yamux } from '@libp2p/yamux';
import { DHT_PROTOCOL_PREFIX } from '@synkti/protocol';
import { createLibp2p, type Libp2p } from 'libp2p';
import { DIAL_TIMEOUT_MS, GOSSIP_D, GOSSIP_D_HI, GOSSIP_D_LAZY, GOSSIP_D_LO, GOSSIP_D_OUT, GOSSIP_D_SCORE, GOSSIP_HEARTBEAT_MS, GOSSIP_IDONTWANT_MIN_BYTES, LOOPBACK_ALLOW, LOOPBACK_IPS, MAX_CONNECTIONS, MAX_EARLY_STREAMS, MAX_STREAMS_PER_CONNECTION } from './constants.js';

export type MeshServices = {
  pubsub: GossipSub;
  dht: KadDHT;
  identify: unknown;
  ping: Ping;
};

export type MeshLibp2p = Libp2p<MeshServices>;

export interface MeshNodeInit {
  privateKey: PrivateKey;
  /** The pre-shared swarm key file contents; every connection is refused without it. */
  swarmKey: Uint8Array;
  /** Multiaddrs to listen on, e.g. /ip4/0.0.0.0/tcp/4001. */
  listen: string[];
  /** Multiaddrs to announce instead of the listen addresses (e.g. a public IP behind NAT). */
  announce?: string[];
  /** IPs exempt from gossipsub's IP-colocation penalty (many agents behind one address). */
  ipColocationWhitelist?: string[];
  /** Multiaddr prefixes exempt from connection limits and inbound rate limits. */
  allow?: string[];
  /** Where gossipsub counts its wire traffic (see gossipTrafficRegister). */
  gossipMetrics?: GossipsubOpts['metricsRegister'];
}

/** (from, seqno) of a gossip message as text, before its signature is checked. */
function signedMessageKey(msg: { from?: Uint8Array; seqno?: Uint8Array }): string {
  if (msg.from === undefined || msg.seqno === undefined) return '';
  return `${Buffer.from(msg.from.buffer, msg.from.byteOffset, msg.from.byteLength).toString('base64')}/${Buffer.from(msg.seqno.buffer, msg.seqno.byteOffset, msg.seqno.byteLength).toString('base64')}`;
}

/**
 * The libp2p node: TCP, the pnet pre-shared key, noise, yamux, identify, ping, a Synkti-only
 * kad-dht in server mode and gossipsub with strict signing.
 */
export async function createMeshNode(init: MeshNodeInit): Promise<MeshLibp2p> {
  return createLibp2p({
    privateKey: init.privateKey,
    start: false,
    addresses: { listen: init.listen, announce: init.announce ?? [] },
    transports: [tcp()],
    connectionProtector: preSharedKey({ psk: init.swarmKey }),
    connectionEncrypters: [noise()],
    streamMuxers: [
      yamux({
        // A gateway may open many forward streams on a fresh connection before libp2p has
        // attached its stream listener; yamux's default of 10 "early" streams resets the
        // whole connection then.
        maxEarlyStreams: MAX_EARLY_STREAMS,
        maxInboundStreams: MAX_STREAMS_PER_CONNECTION,
        maxOutboundStreams: MAX_STREAMS_PER_CONNECTION,
      }),
    ],
    // libp2p's monitor pings every connection and aborts it when a ping fails or overlaps
    // another (ping allows one outbound stream): on a busy node that tore down healthy
    // connections in a loop. Liveness is gossip's job (heartbeat absence); yamux keep-alive
    // still closes dead TCP connections.
    connectionMonitor: { enabled: false },
    connectionManager: {
      maxConnections: MAX_CONNECTIONS,
      dialTimeout: DIAL_TIMEOUT_MS,
      allow: [...LOOPBACK_ALLOW, ...(init.allow ?? [])],
    },
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        protocol: `${DHT_PROTOCOL_PREFIX}/kad/1.0.0`,
        // A node without a public address must still answer queries in a private swarm.
        clientMode: false,
        // Private deployments live on private addresses: keep them.
        peerInfoMapper: passthroughMapper,
        logPrefix: 'synkti:dht',
        datastorePrefix: '/synkti-dht',
        metricsPrefix: 'synkti_dht',
      }),
      pubsub: gossipsub({
        globalSignaturePolicy: StrictSign,
        emitSelf: false,
        allowPublishToZeroTopicPeers: true,
        heartbeatInterval: GOSSIP_HEARTBEAT_MS,
        D: GOSSIP_D,
        Dlo: GOSSIP_D_LO,
        Dhi: GOSSIP_D_HI,
        Dout: GOSSIP_D_OUT,
        Dscore: GOSSIP_D_SCORE,
        Dlazy: GOSSIP_D_LAZY,
        idontwantMinDataSize: GOSSIP_IDONTWANT_MIN_BYTES,
        // A state goes to the gossip mesh (D peers), which forwards it; flooding it to every
        // connected peer made each node's cost grow with the fleet.
        floodPublish: false,
        // Without it gossipsub verifies every copy's signature before it finds the copy a
        // duplicate; with strict signing the message ID is (from, seqno) anyway, and only
        // copies of a message that already passed validation are dropped this way.
        fastMsgIdFn: signedMessageKey,
        ...(init.gossipMetrics != null ? { metricsRegister: init.gossipMetrics, metricsTopicStrToLabel: new Map() } : {}),
        // Peers cannot forge another's state: validated messages only, invalid ones penalised.
        asyncValidation: false,
        scoreParams: {
          IPColocationFactorWhitelist: new Set([...LOOPBACK_IPS, ...(init.ipColocationWhitelist ?? [])]),
        },
      }),
    },
  }) as Promise<MeshLibp2p>;
}

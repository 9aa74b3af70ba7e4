import type { GossipsubOpts } from '@libp2p/gossipsub';

type MetricsRegister = NonNullable<GossipsubOpts['metricsRegister']>;

/** What gossipsub received and sent on this node since it started (all topics, control included). */
export interface GossipTraffic {
  rpcsReceived: number;
  bytesReceived: number;
  /** Application messages inside those RPCs, duplicates included. */
  messagesReceived: number;
  rpcsSent: number;
  bytesSent: number;
}

const TRACKED: Record<string, keyof GossipTraffic> = {
  gossipsub_rpc_recv_count_total: 'rpcsReceived',
  gossipsub_rpc_recv_bytes_total: 'bytesReceived',
  gossipsub_rpc_recv_message_total: 'messagesReceived',
  gossipsub_rpc_sent_count_total: 'rpcsSent',
  gossipsub_rpc_sent_bytes_total: 'bytesSent',
};

const noop = (): void => undefined;

/**
 * A metrics register for gossipsub that keeps only the wire counters above and drops every other
 * metric: the per-node cost of membership (bytes and messages per second) is what the gossip
 * bench and the agent's /metrics report, and nothing else is worth gossipsub's bookkeeping.
 */
export function gossipTrafficRegister(): { register: MetricsRegister; traffic: GossipTraffic } {
  const traffic: GossipTraffic = { rpcsReceived: 0, bytesReceived: 0, messagesReceived: 0, rpcsSent: 0, bytesSent: 0 };
  const gauge = (config: { name: string }) => {
    const field = TRACKED[config.name];
    return {
      inc: field === undefined ? noop : (value = 1) => {
        traffic[field] += value;
      },
      set: noop,
      addCollect: noop,
    };
  };
  const register = {
    gauge,
    histogram: () => ({ startTimer: () => noop, observe: noop, reset: noop }),
    avgMinMax: () => ({ set: noop }),
  } as unknown as MetricsRegister;
  return { register, traffic };
}

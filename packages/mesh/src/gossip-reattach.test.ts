import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type NodeState, sampleNodeState } from '@synkti/protocol';
import { generateSwarmKey, parseSwarmKey, type StateBody } from './index.js';
import { TestMeshes, waitFor as until } from './meshes.test.support.js';

const meshes = new TestMeshes();
after(() => meshes.stopAll());
// A long keep-alive: only the marked publishes below travel while the test watches.
const startMesh = (swarmKey: Uint8Array, bootstrap: string[] = []) => meshes.start(swarmKey, bootstrap, { heartbeatMs: 60_000, forgetAfterMs: 600_000 });

describe('gossip after a duplicate connection closes', () => {
  // Two nodes may hold two connections (both dialled); the connector closes one. If it carried
  // gossipsub's streams, gossipsub (17.1) dropped the streams but kept the peer, still connected
  // by the other connection, in its mesh: every later message to it was silently lost.
  it('keeps delivering states over the connection that remains', async () => {
    const key = parseSwarmKey(generateSwarmKey());
    const a = await startMesh(key);
    const b = await startMesh(key, a.multiaddrs());
    let marker = 'first';
    const body = (): StateBody => {
      const { v, fleet, peerId, incarnation, seq, sentAt, addrs, leaving, ...rest } = sampleNodeState();
      return { ...rest, engine: { ...rest.engine, models: [marker] } };
    };
    const heard: NodeState[] = [];
    b.onState((s) => {
      if (s.peerId === a.peerId) heard.push(s);
    });
    a.startHeartbeat(body);
    // The first publishes may precede gossipsub's mesh between the two: repeat until one lands.
    await until('b to hear a', () => {
      void a.publishNow();
      return heard.find((s) => s.engine.models[0] === 'first');
    });

    const peerOfB = b.libp2p.peerId;
    const first = a.libp2p.getConnections(peerOfB);
    assert.equal(first.length, 1);
    await a.libp2p.dial(b.libp2p.getMultiaddrs(), { force: true });
    await until('a second connection', () => (a.libp2p.getConnections(peerOfB).length === 2 ? true : undefined));
    // Let the second connection finish identify, so it is a full connection like the first.
    await new Promise((r) => setTimeout(r, 300));
    await first[0]!.close();
    assert.equal(a.libp2p.getConnections(peerOfB).length, 1, 'still connected by the second connection');

    // A publish in the moment the streams move may be lost (the next keep-alive carries it);
    // what must not happen is every later one lost while the two stay connected.
    for (const m of ['second', 'third']) {
      marker = m;
      await until(`b to hear "${m}"`, () => {
        void a.publishNow();
        return heard.find((s) => s.engine.models[0] === m);
      }, 5_000);
    }
  });
});

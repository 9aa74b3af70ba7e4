import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type NodeState, sampleNodeState } from '@synkti/protocol';
import { generateSwarmKey, parseSwarmKey, type StateBody } from './index.js';
import { TestMeshes, waitFor } from './meshes.test.support.js';

const meshes = new TestMeshes();
after(() => meshes.stopAll());
const startMesh = (swarmKey: Uint8Array, bootstrap: string[] = []) => meshes.start(swarmKey, bootstrap);

function body(): StateBody {
  const { v, fleet, peerId, incarnation, seq, sentAt, addrs, leaving, ...rest } = sampleNodeState();
  return rest;
}

describe('Mesh', () => {
  it('joins through a bootstrap address and gossips state both ways', async () => {
    const key = parseSwarmKey(generateSwarmKey());
    const a = await startMesh(key);
    const b = await startMesh(key, a.multiaddrs());
    const seenByA = new Map<string, NodeState>();
    const seenByB = new Map<string, NodeState>();
    a.onState((s) => seenByA.set(s.peerId, s));
    b.onState((s) => seenByB.set(s.peerId, s));
    a.startHeartbeat(body);
    b.startHeartbeat(body);
    await waitFor('a to hear b', () => seenByA.get(b.peerId));
    await waitFor('b to hear a', () => seenByB.get(a.peerId));
    assert.ok(seenByA.get(a.peerId), 'own state is fed to listeners too');
  });

  it('probes a peer directly: reachable while it runs, not once it stopped', async () => {
    const key = parseSwarmKey(generateSwarmKey());
    const a = await startMesh(key);
    const b = await startMesh(key, a.multiaddrs());
    await waitFor('b connected to a', () => (a.libp2p.getConnections().length > 0 ? true : undefined));
    const bId = b.peerId;
    // A loaded machine may miss one 2 s ping: reachable means answering within a few tries.
    let answered = false;
    for (let i = 0; i < 5 && !answered; i++) answered = await a.reachable(bId, 2_000);
    assert.equal(answered, true);
    await b.stop();
    assert.equal(await a.reachable(bId, 1_000), false);
  });

  it('probes a connected peer with the muxer ping frame, not a stream per probe; a frozen one does not answer', async () => {
    const key = parseSwarmKey(generateSwarmKey());
    const a = await startMesh(key);
    const b = await startMesh(key, a.multiaddrs());
    await waitFor('b connected to a', () => (a.libp2p.getConnections().length > 0 ? true : undefined));
    const pingService = a.libp2p.services.ping;
    const original = pingService.ping.bind(pingService);
    let protocolPings = 0;
    pingService.ping = (...args: Parameters<typeof original>) => {
      // Only the probe's own calls: the DHT pings new contacts through the same service.
      if (new Error().stack?.includes('reachable') === true) protocolPings++;
      return original(...args);
    };
    try {
      let answered = false;
      for (let i = 0; i < 5 && !answered; i++) answered = await a.reachable(b.peerId, 2_000);
      assert.equal(answered, true);
      assert.equal(protocolPings, 0, 'the ping protocol (a new stream) was not used');
      // A peer whose event loop does not run never answers: its muxer stops reading.
      for (const c of b.libp2p.getConnections()) (c as unknown as { muxer: { onData: (buf: unknown) => void } }).muxer.onData = () => {};
      // A pong B sent before it stopped may still be on the wire: that one proves it was alive.
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(await a.reachable(b.peerId, 500), false);
    } finally {
      pingService.ping = original;
    }
  });

  it('a probe that times out before a slow peer answers leaves the connection up (the late pong is expected)', async () => {
    const key = parseSwarmKey(generateSwarmKey());
    const a = await startMesh(key);
    const b = await startMesh(key, a.multiaddrs());
    await waitFor('b connected to a', () => (a.libp2p.getConnections().length > 0 ? true : undefined));
    let answered = false;
    for (let i = 0; i < 5 && !answered; i++) answered = await a.reachable(b.peerId, 2_000);
    assert.equal(answered, true);
    // B answers pings 300 ms late, like a peer in a GC pause or a brief freeze.
    type Muxer = { handlePing: (header: unknown) => void };
    for (const c of b.libp2p.getConnections()) {
      const muxer = (c as unknown as { muxer: Muxer }).muxer;
      const handle = muxer.handlePing.bind(muxer);
      muxer.handlePing = (header) => void setTimeout(() => handle(header), 300);
    }
    const connection = a.libp2p.getConnections(b.libp2p.peerId)[0]!;
    assert.equal(await a.reachable(b.peerId, 100), false, 'not within 100 ms');
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(connection.status, 'open', 'the late pong did not abort the connection');
    assert.equal(await a.reachable(b.peerId, 2_000), true);
  });

  it('probes a peer through another (indirect probe): yes while the target runs, no once it stopped, no from a helper that is gone', async () => {
    const key = parseSwarmKey(generateSwarmKey());
    const a = await startMesh(key);
    const helper = await startMesh(key, a.multiaddrs());
    const target = await startMesh(key, helper.multiaddrs());
    await waitFor('a connected to the helper', () => (a.libp2p.getConnections().some((c) => c.remotePeer.toString() === helper.peerId) ? true : undefined));
    const targetId = target.peerId;
    const helperId = helper.peerId;
    let answered = false;
    for (let i = 0; i < 5 && !answered; i++) answered = await a.reachableVia(helperId, targetId, 4_000);
    assert.equal(answered, true, 'the helper reached the target');
    assert.equal(await a.reachableVia(helperId, 'not-a-peer-id', 2_000), false, 'a malformed request is refused, not answered yes');
    await target.stop();
    assert.equal(await a.reachableVia(helperId, targetId, 4_000), false, 'a stopped target is not confirmed');
    await helper.stop();
    assert.equal(await a.reachableVia(helperId, targetId, 2_000), false, 'no helper, no yes');
  });

  it('gives a joiner the states its first peer holds at once (state sync), with their ages; other fleets and its own state are left out', async () => {
    const key = parseSwarmKey(generateSwarmKey());
    const elsewhere = sampleNodeState({ fleet: 'f', peerId: '12D3KooWElsewhere', seq: 7, addrs: [] });
    const otherFleet = sampleNodeState({ fleet: 'other', peerId: '12D3KooWOtherFleet' });
    let joinerId = '';
    const helper = await meshes.start(key, [], undefined, {
      syncSource: () => [
        { state: elsewhere, ageMs: 1_234 },
        { state: otherFleet, ageMs: 0 },
        { state: sampleNodeState({ fleet: 'f', peerId: joinerId }), ageMs: 0 },
      ],
    });
    const received: { state: NodeState; from: string; ageMs: number | undefined }[] = [];
    const joiner = await meshes.start(key, []);
    joinerId = joiner.peerId;
    joiner.onState((state, from, ageMs) => received.push({ state, from, ageMs }));
    // No heartbeat anywhere: only the sync can carry these states.
    await joiner.libp2p.dial(helper.libp2p.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(5_000) });
    const got = await waitFor('the synced state', () => received.find((r) => r.state.peerId === elsewhere.peerId));
    assert.equal(got.ageMs, 1_234);
    assert.equal(got.from, helper.peerId);
    assert.equal(got.state.seq, 7);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(received.map((r) => r.state.peerId), [elsewhere.peerId], 'another fleet and the joiner itself are not delivered');
  });

  it('refuses a node with another swarm key', async () => {
    const a = await startMesh(parseSwarmKey(generateSwarmKey()));
    const intruder = await startMesh(parseSwarmKey(generateSwarmKey()));
    await assert.rejects(intruder.libp2p.dial(a.libp2p.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(3_000) }));
    assert.equal(a.connectedPeers().length, 0);
  });

  it('rejects malformed state messages and keeps delivering good ones', async () => {
    const key = parseSwarmKey(generateSwarmKey());
    const a = await startMesh(key);
    const bad = await startMesh(key, a.multiaddrs());
    const received: NodeState[] = [];
    a.onState((s, from) => from !== a.peerId && received.push(s));
    await waitFor('connection', () => (a.connectedPeers().length > 0 ? true : undefined));
    await waitFor('subscription', () => (a.libp2p.services.pubsub.getSubscribers(a.gossip.topic).length > 0 ? true : undefined));
    await waitFor('bad peer sees subscription', () => (bad.libp2p.services.pubsub.getSubscribers(bad.gossip.topic).length > 0 ? true : undefined));
    await bad.gossip.publishRaw(new TextEncoder().encode('{"v":1,"junk":true}'));
    await bad.gossip.publishRaw(new Uint8Array(64 * 1024));
    // A state claiming to be another peer is rejected: the signature names the sender.
    await bad.gossip.publishRaw(new TextEncoder().encode(JSON.stringify(sampleNodeState({ fleet: 'f', peerId: a.peerId }))));
    await waitFor('three rejections', () => (a.gossip.counters.rejected >= 3 ? true : undefined));
    assert.equal(received.length, 0);
    bad.startHeartbeat(body);
    await waitFor('a good state after the bad ones', () => received[0]);
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { noise } from '@chainsafe/libp2p-noise';
import { tcp } from '@libp2p/tcp';
import { yamux } from '@libp2p/yamux';
import { generateSwarmKey, Mesh, parseSwarmKey, readSwarmKey } from '@synkti/mesh';
import { encodeNodeState, MAX_STATE_MESSAGE_BYTES, sampleNodeState } from '@synkti/protocol';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { FAST_TIMINGS } from '../harness/agent-process.js';
import { TestFleet } from '../harness/fleet.js';
import { waitFor } from '../harness/wait.js';

describe('the private swarm', { timeout: 90_000 }, () => {
  let fleet: TestFleet;
  let outsiderDir: string;
  const meshes: Mesh[] = [];
  before(async () => {
    fleet = await TestFleet.create();
    await fleet.startAgent('a0', FAST_TIMINGS, []);
    await fleet.startAgent('a1', FAST_TIMINGS);
    outsiderDir = await mkdtemp(join(tmpdir(), 'synkti-outsider-'));
  });
  after(async () => {
    await Promise.all(meshes.map((m) => m.stop()));
    await fleet.close();
    await rm(outsiderDir, { recursive: true, force: true });
  });

  it('refuses a node without the swarm key', async () => {
    const plain = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] });
    try {
      await assert.rejects(plain.dial(multiaddr(fleet.agents[0]!.addrs[0]!), { signal: AbortSignal.timeout(3_000) }));
    } finally {
      await plain.stop();
    }
  });

  it('refuses a node with a wrong swarm key, and its state never reaches a view', async () => {
    const wrong = new Mesh({
      fleet: 'default', stateDir: join(outsiderDir, 'wrong'), swarmKey: parseSwarmKey(generateSwarmKey()),
      listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: fleet.agents[0]!.addrs, heartbeatMs: 100, forgetAfterMs: 10_000,
    });
    meshes.push(wrong);
    await wrong.start();
    await assert.rejects(wrong.libp2p.dial(multiaddr(fleet.agents[0]!.addrs[0]!), { signal: AbortSignal.timeout(3_000) }));
    const { v, fleet: _f, peerId, incarnation, seq, sentAt, addrs, leaving, ...body } = sampleNodeState();
    wrong.startHeartbeat(() => body);
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(wrong.connectedPeers().length, 0);
    assert.equal(await fleet.agents[0]!.statusOf(wrong.peerId), 'absent');
  });

  it('rejects malformed, oversized and forged states from a keyed peer; views and gossip keep working', async () => {
    const keyed = new Mesh({
      fleet: 'default', stateDir: join(outsiderDir, 'keyed'), swarmKey: await readSwarmKey(fleet.swarmKeyFile),
      listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: fleet.agents[0]!.addrs, heartbeatMs: 100, forgetAfterMs: 10_000,
    });
    meshes.push(keyed);
    await keyed.start();
    await waitFor('the keyed peer to see subscribers', () => (keyed.libp2p.services.pubsub.getSubscribers(keyed.gossip.topic).length >= 1 ? true : undefined));
    const before = await fleet.agents[1]!.fleet();
    const text = (s: string) => new TextEncoder().encode(s);
    await keyed.gossip.publishRaw(text('not json'));
    await keyed.gossip.publishRaw(text(JSON.stringify({ ...sampleNodeState({ peerId: keyed.peerId }), seq: 'x' })));
    await keyed.gossip.publishRaw(new Uint8Array(MAX_STATE_MESSAGE_BYTES + 1).fill(32));
    await keyed.gossip.publishRaw(encodeNodeState(sampleNodeState({ peerId: fleet.agents[1]!.peerId, seq: 1e9, incarnation: 1e15 })));
    const rejectionsOf = (i: number) => fleet.agents[i]!.logs.filter((l) => l['msg'] === 'rejected state message').length;
    await waitFor('the bootstrap agent to reject the four bad messages', () => (rejectionsOf(0) >= 4 ? true : undefined), 15_000);
    for (const agent of fleet.agents) {
      const view = await agent.fleet();
      assert.equal(view.peers.find((p) => p.peerId === keyed.peerId), undefined, 'no state of the bad peer got in');
      const forged = view.peers.find((p) => p.peerId === fleet.agents[1]!.peerId);
      assert.notEqual(forged?.seq, 1e9, 'a forged state for another peer was rejected');
      assert.equal(forged?.status, 'alive');
    }
    assert.equal(before.peers.length, (await fleet.agents[1]!.fleet()).peers.length);
    // A valid state from the same peer still gets in: rejection is per message.
    const { v, fleet: _f, peerId, incarnation, seq, sentAt, addrs, leaving, ...body } = sampleNodeState();
    keyed.startHeartbeat(() => body);
    await waitFor('a valid state from the keyed peer', async () => ((await fleet.agents[0]!.statusOf(keyed.peerId)) === 'alive' ? true : undefined));
  });
});

import './polyfill.js';
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { silentLogger, systemClock } from '@synkti/interface';
import { DHT_PROTOCOL_PREFIX } from '@synkti/protocol';
import { createMeshNode, type MeshLibp2p } from './node.js';
import { RENDEZVOUS_FLEET_SPACING_MS, RENDEZVOUS_INTERVAL_MS } from './constants.js';
import { DhtRendezvous, type RendezvousPeer, rendezvousIntervalMs, rendezvousKey } from './rendezvous.js';
import { generateSwarmKey, parseSwarmKey } from './swarm-key.js';

const nodes: MeshLibp2p[] = [];
after(() => Promise.all(nodes.map((n) => n.stop())));

async function node(swarmKey: Uint8Array): Promise<MeshLibp2p> {
  const n = await createMeshNode({ privateKey: await generateKeyPair('Ed25519'), swarmKey, listen: ['/ip4/127.0.0.1/tcp/0'] });
  await n.start();
  nodes.push(n);
  return n;
}

/** Waits until identify has told `n` that `peer` speaks the fleet's DHT protocol (it then enters the routing table). */
async function knowsDht(n: MeshLibp2p, peer: MeshLibp2p): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const protocols = await n.peerStore.get(peer.peerId).then((p) => p.protocols, () => [] as string[]);
    if (protocols.includes(`${DHT_PROTOCOL_PREFIX}/kad/1.0.0`)) return;
    if (Date.now() > deadline) throw new Error('identify did not report the DHT protocol within 10 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('DHT rendezvous', () => {
  it('derives one key per fleet and swarm key', async () => {
    const key = parseSwarmKey(generateSwarmKey());
    assert.equal((await rendezvousKey('f', key)).toString(), (await rendezvousKey('f', key)).toString());
    assert.notEqual((await rendezvousKey('f', key)).toString(), (await rendezvousKey('g', key)).toString());
    assert.notEqual((await rendezvousKey('f', key)).toString(), (await rendezvousKey('f', parseSwarmKey(generateSwarmKey()))).toString());
  });

  it('leads from one live peer to the others: B and C know only A; C finds B under the fleet key', async () => {
    const swarmKey = parseSwarmKey(generateSwarmKey());
    const key = await rendezvousKey('f', swarmKey);
    const [a, b, c] = [await node(swarmKey), await node(swarmKey), await node(swarmKey)];
    await b.dial(a.getMultiaddrs()[0]!);
    await c.dial(a.getMultiaddrs()[0]!);
    await Promise.all([knowsDht(b, a), knowsDht(c, a)]);
    assert.equal(c.getConnections(b.peerId).length, 0, 'C is not connected to B before the rendezvous');
    const foundByB: RendezvousPeer[][] = [];
    const foundByC: RendezvousPeer[][] = [];
    assert.equal(await new DhtRendezvous(b, key, systemClock, silentLogger, (p) => foundByB.push(p)).round(), true);
    assert.equal(await new DhtRendezvous(c, key, systemClock, silentLogger, (p) => foundByC.push(p)).round(), true);
    const seen = foundByC.flat();
    const bSeen = seen.find((p) => p.peerId === b.peerId.toString());
    assert.ok(bSeen, `C found B (found: ${JSON.stringify(seen)})`);
    assert.ok(bSeen.addrs.some((addr) => b.getMultiaddrs().some((m) => m.toString().startsWith(addr))), 'with an address B listens on');
    assert.ok(!seen.some((p) => p.peerId === c.peerId.toString()), 'never itself');
  });
});

describe('rendezvousIntervalMs', () => {
  it('keeps the fleet-wide round rate bounded: one round per spacing period across the fleet, never faster than the floor', () => {
    assert.equal(rendezvousIntervalMs(0), RENDEZVOUS_INTERVAL_MS);
    assert.equal(rendezvousIntervalMs(1), RENDEZVOUS_INTERVAL_MS);
    for (const n of [20, 100, 1_000]) {
      const period = rendezvousIntervalMs(n);
      assert.ok(period >= RENDEZVOUS_INTERVAL_MS);
      // Rounds per second across the fleet stay at or under one per spacing period.
      assert.ok(n / period <= 1 / RENDEZVOUS_FLEET_SPACING_MS + 1e-12, `N=${n}`);
    }
  });
});

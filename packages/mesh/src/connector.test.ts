import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { ManualClock, silentLogger } from '@synkti/interface';
import { Connector } from './connector.js';
import { FORGET_AFTER_BEATS } from './constants.js';
import type { MeshLibp2p } from './node.js';

const newPeerId = async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();

/** Just what the connector touches of a libp2p node: nothing connects, every dial is recorded and fails. */
function fakeNode(self: string, dialled: string[]): MeshLibp2p {
  return {
    peerId: { toString: () => self },
    getConnections: () => [],
    getMultiaddrs: () => [],
    peerStore: { merge: async () => undefined },
    dial: async (target: { toString(): string }) => {
      dialled.push(target.toString());
      throw new Error('unreachable in this test');
    },
  } as unknown as MeshLibp2p;
}

describe('Connector (fake node, fake clock)', () => {
  it('keeps dialling a peer of a large fleet between its slow keep-alives, and forgets a heartbeat-rate peer after the forget time', async () => {
    const clock = new ManualClock(0);
    const dialled: string[] = [];
    const forgetAfterMs = 70_000;
    const connector = new Connector(fakeNode(await newPeerId(), dialled), [], clock, silentLogger, forgetAfterMs);
    const slow = await newPeerId();
    const fast = await newPeerId();
    const beatMs = 30_000; // a fleet of 60: forgetAfterMs alone would forget it between two keep-alives
    assert.ok(FORGET_AFTER_BEATS * beatMs > forgetAfterMs);
    connector.learn(slow, ['/ip4/127.0.0.1/tcp/1'], beatMs);
    connector.learn(fast, ['/ip4/127.0.0.1/tcp/2']);
    connector.start();
    try {
      for (let t = 0; t < forgetAfterMs + 10_000; t += 250) {
        clock.advance(250);
        await new Promise((resolve) => setImmediate(resolve));
      }
      dialled.length = 0;
      for (let t = 0; t < 10_000; t += 250) {
        clock.advance(250);
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.ok(dialled.includes(slow), 'the slow-beating peer is still known and dialled');
      assert.ok(!dialled.includes(fast), 'the peer silent past the forget time is no longer dialled');
    } finally {
      connector.stop();
    }
  });
});

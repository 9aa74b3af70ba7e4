import { createServer } from 'node:net';
import { ephemeralPortRange } from 'synkti-agent';

/** A TCP port that was free a moment ago on 127.0.0.1 (the OS picked it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A base port P for `synkti local up` such that P+i, P+100+i, P+200+i and P+300+i are free, and
 * the fleet's whole port block (P to P+399) lies below the kernel's ephemeral range (where
 * outbound connections would take them at random).
 */
export async function freeBasePort(nodes: number): Promise<number> {
  const top = Math.min(ephemeralPortRange()[0], 65_536) - 400;
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 10_000 + Math.floor(Math.random() * (top - 10_000));
    const ports = [0, 100, 200, 300].flatMap((offset) => Array.from({ length: nodes }, (_, i) => base + offset + i));
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return base;
  }
  throw new Error('no free base port found');
}

import { createServer } from 'node:net';
import { ephemeralPortRange } from 'synkti-agent';

/**
 * A TCP port that was free a moment ago on 127.0.0.1, below the kernel's ephemeral range: a port
 * the OS hands out (listen on 0) lies inside it, where any outbound connection of a busy test
 * machine may take it before the engine or endpoint that is to listen there binds it.
 */
export async function freePort(): Promise<number> {
  const top = ephemeralPortRange()[0] - 1;
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * (top - 10_000));
    if (await isFree(port)) return port;
  }
  throw new Error('no free port found below the ephemeral range in 100 tries');
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

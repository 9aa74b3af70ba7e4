import type { Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { FakeVllmError } from './errors.js';

/** Binds `server`; resolves with the bound port, rejects with LISTEN_FAILED. */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(new FakeVllmError('LISTEN_FAILED', `cannot listen on ${host}:${port}: ${err.message}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * A free port now, for the 'closed' load mode with port 0: the address must be known before
 * the port opens. Another process could take it in between; on loopback in tests that is rare
 * and shows as a crash with LISTEN_FAILED, not as a silent misroute.
 */
export async function reservePort(host: string): Promise<number> {
  const probe = createNetServer();
  const port = await new Promise<number>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, host, () => resolve((probe.address() as AddressInfo).port));
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** `http://host:port`, bracketing IPv6 literals. */
export function urlOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

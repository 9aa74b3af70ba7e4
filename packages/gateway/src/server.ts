import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Startable } from '@synkti/interface';
import type { Hono } from 'hono';

/** Serves a Hono app on a TCP port; `port` is known once started (0 picks a free one). */
export class HttpServer implements Startable {
  readonly #server;
  readonly #host: string;
  readonly #port: number;
  #bound: AddressInfo | undefined;

  constructor(app: Hono, host: string, port: number) {
    this.#server = createAdaptorServer({ fetch: app.fetch });
    this.#host = host;
    this.#port = port;
  }

  get port(): number {
    if (this.#bound === undefined) throw new Error('server not started');
    return this.#bound.port;
  }

  async start(): Promise<void> {
    if (this.#bound !== undefined) return;
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, this.#host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#bound = this.#server.address() as AddressInfo;
  }

  async stop(): Promise<void> {
    if (this.#bound === undefined) return;
    this.#bound = undefined;
    const server = this.#server as unknown as { close(cb: () => void): void; closeAllConnections?: () => void };
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections?.();
    });
  }
}

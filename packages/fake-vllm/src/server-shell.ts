import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type Listener = (req: IncomingMessage, res: ServerResponse) => void;

export interface ShellHooks {
  /** The app: every request that is neither refused nor held goes here. */
  listener: Listener;
  /** True while every new connection is closed without a byte (vLLM loading behind docker's proxy). */
  refusing: () => boolean;
  /** True while requests, except the control plane's, are held unanswered (the hang fault). */
  hung: () => boolean;
}

/**
 * The HTTP server of one fake engine "process": it knows every socket, so a crash can reset
 * them all; it closes connections without an answer while refusing, and holds requests while
 * hung, answering them if the hang heals.
 */
export class ServerShell {
  readonly server: Server;
  readonly #hooks: ShellHooks;
  readonly #sockets = new Set<Socket>();
  readonly #held = new Set<[IncomingMessage, ServerResponse]>();
  #closed = false;

  constructor(hooks: ShellHooks) {
    this.#hooks = hooks;
    this.server = createServer((req, res) => this.#onRequest(req, res));
    this.server.on('connection', (socket) => {
      if (hooks.refusing()) {
        socket.destroy();
        return;
      }
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  /** Requests held by a hang. */
  get held(): number {
    return this.#held.size;
  }

  /** Hands the held requests whose clients are still there to the app. */
  releaseHeld(): void {
    const held = [...this.#held];
    this.#held.clear();
    for (const [req, res] of held) if (!req.socket.destroyed && !this.#closed) this.#hooks.listener(req, res);
  }

  /** Like a killed process: the port closes and every connection is reset at once. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#held.clear();
    const server = this.server;
    const closed = server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    server.closeAllConnections();
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    await closed;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (this.#closed) return;
    if (this.#hooks.hung() && !req.url?.startsWith('/_fake/')) {
      const entry: [IncomingMessage, ServerResponse] = [req, res];
      this.#held.add(entry);
      res.once('close', () => this.#held.delete(entry));
      return;
    }
    this.#hooks.listener(req, res);
  }
}

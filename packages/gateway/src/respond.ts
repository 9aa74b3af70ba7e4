import type { ServerResponse } from 'node:http';
import type { Logger } from '@synkti/interface';
import type { Context } from 'hono';
import type { BodySource } from './request-path/index.js';

/** Node's response for this request when node-server serves it; undefined under `app.request()`. */
export function nodeResponse(c: Context): ServerResponse | undefined {
  const outgoing = (c.env as { outgoing?: unknown } | undefined)?.outgoing;
  return outgoing !== null && typeof outgoing === 'object' && 'writeHead' in outgoing ? (outgoing as ServerResponse) : undefined;
}

/**
 * Writes an answer straight to Node's socket: the head goes out with the first bytes (one write,
 * where node-server flushes the head alone and pulls a web stream chunk by chunk), the last
 * bytes with the end, and writes wait for the client's socket to drain. A body that breaks
 * aborts the client's connection; a client that leaves cancels the body.
 */
export function writeNodeResponse(res: ServerResponse, status: number, headers: Record<string, string>, body: Uint8Array | BodySource, log: Logger, requestId: string): void {
  if (body instanceof Uint8Array) {
    res.writeHead(status, { ...headers, 'content-length': String(body.byteLength) });
    res.end(body);
    return;
  }
  try {
    res.writeHead(status, headers);
  } catch (err) {
    // A header Node refuses (a peer's bad value): nothing went out; the error answer takes over.
    body.cancel(err);
    throw err;
  }
  pump(res, body).catch((err: unknown) => log.error({ err, requestId }, 'writing the response failed'));
}

async function pump(res: ServerResponse, body: BodySource): Promise<void> {
  let ended = false;
  const stopWatching = whenGone(res, () => {
    if (!ended) body.cancel(new Error('client went away'));
  });
  try {
    for (;;) {
      const chunk = await body.read();
      if (res.destroyed) {
        body.cancel(new Error('client went away'));
        return;
      }
      if (chunk.last) {
        ended = true;
        res.end(chunk.bytes);
        return;
      }
      if (chunk.bytes !== undefined && !res.write(chunk.bytes)) await drained(res);
    }
  } catch (err) {
    // The body broke and said so; what the client got so far must not look like a whole answer.
    ended = true;
    res.destroy(err instanceof Error ? err : new Error(String(err)));
  } finally {
    stopWatching();
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    let stop = () => undefined as void;
    const done = () => {
      stop();
      res.off('drain', done);
      resolve();
    };
    res.on('drain', done);
    stop = whenGone(res, done);
  });
}

/**
 * Runs `fn` once when the response is over for the client: Node's response closed, or the
 * client's socket did. The socket counts too: a pipelined response still queued behind another
 * on a connection that dies never gets a socket, so it never emits 'close' (Node 20).
 * Returns a function that stops watching.
 */
export function whenGone(res: ServerResponse, fn: () => void): () => void {
  const socket = res.req?.socket;
  let fired = false;
  const once = () => {
    if (fired) return;
    fired = true;
    stop();
    fn();
  };
  const stop = () => {
    res.off('close', once);
    socket?.off('close', once);
  };
  res.once('close', once);
  socket?.once('close', once);
  if (socket?.destroyed === true) once();
  return stop;
}

/** The body as a web stream, for a `Response` off Node (`app.request()`, tests). */
export function webBody(body: Uint8Array | BodySource): Uint8Array | ReadableStream<Uint8Array> {
  if (body instanceof Uint8Array) return body;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const chunk = await body.read();
          if (chunk.bytes !== undefined) controller.enqueue(chunk.bytes);
          if (chunk.last) controller.close();
        } catch (err) {
          controller.error(err);
        }
      },
      cancel(reason) {
        body.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

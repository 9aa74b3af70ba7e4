import type { ForwardResponse } from '@synkti/protocol';

/**
 * A fetch Response whose body pulls from the forwarded body one chunk at a time (so a slow
 * client slows the engine, not our memory). Cancelling it, which the server does when the
 * client goes away, ends the iterator and so cancels the request on the serving peer.
 */
export function streamingResponse(forwarded: ForwardResponse, extraHeaders: Record<string, string>): Response {
  const iterator = forwarded.body[Symbol.asyncIterator]();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await iterator.next();
          if (next.done === true) controller.close();
          else controller.enqueue(next.value);
        } catch (err) {
          controller.error(err);
        }
      },
      async cancel() {
        await iterator.return?.();
      },
    },
    { highWaterMark: 0 },
  );
  const headers = new Headers(forwarded.headers);
  for (const [k, v] of Object.entries(extraHeaders)) headers.set(k, v);
  return new Response(body, { status: forwarded.status, headers });
}

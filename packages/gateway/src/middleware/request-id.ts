import type { MiddlewareHandler } from 'hono';

const VALID_ID = /^[\w.:-]{1,128}$/;

/** Takes the caller's x-request-id when sane, or makes one; echoes it on the response. */
export function requestId({ header = 'x-request-id', generate = () => crypto.randomUUID() } = {}): MiddlewareHandler<{ Variables: { requestId: string } }> {
  return async function requestIdMiddleware(c, next) {
    const given = c.req.header(header);
    const id = given !== undefined && VALID_ID.test(given) ? given : generate();
    c.set('requestId', id);
    c.header(header, id);
    await next();
  };
}

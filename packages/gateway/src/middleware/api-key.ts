import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { errorResponse, GatewayError } from '../errors.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Requires `Authorization: Bearer <key>` once keys are configured. Keys are compared as SHA-256
 * digests with timingSafeEqual, so neither content nor length leaks through timing.
 */
export function apiKeyAuth({ keys }: { keys: readonly string[] }): MiddlewareHandler {
  const digests = keys.map(digest);
  return async function apiKeyAuthMiddleware(c, next) {
    if (digests.length === 0) return next();
    const match = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '');
    if (match === null) {
      return errorResponse(c, new GatewayError('MISSING_API_KEY', 401, 'authentication_error', 'Missing API key: send Authorization: Bearer <key>.'));
    }
    const given = digest(match[1]!.trim());
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(d, given) || ok;
    if (!ok) return errorResponse(c, new GatewayError('INVALID_API_KEY', 401, 'authentication_error', 'Incorrect API key provided.'));
    return next();
  };
}

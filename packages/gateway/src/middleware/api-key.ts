import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { errorResponse, GatewayError } from '../errors.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Requires `Authorization: Bearer <key>` once keys are configured: Hono's bearer-auth, with
 * OpenAI's 401 answers (its own would be a bare "Unauthorized", and 400 for a malformed header,
 * where OpenAI's clients expect 401 with an error body). Keys are compared as SHA-256 digests with
 * timingSafeEqual against every configured key, so neither content, length nor position leaks
 * through timing.
 */
export function apiKeyAuth({ keys }: { keys: readonly string[] }): MiddlewareHandler {
  const digests = keys.map(digest);
  if (digests.length === 0) return async function noApiKeys(_c, next) {
    await next();
  };
  const missing = (c: Context) => errorResponse(c, new GatewayError('MISSING_API_KEY', 401, 'authentication_error', 'Missing API key: send Authorization: Bearer <key>.'));
  const invalid = (c: Context) => errorResponse(c, new GatewayError('INVALID_API_KEY', 401, 'authentication_error', 'Incorrect API key provided.'));
  return bearerAuth({
    verifyToken: (token) => {
      const given = digest(token);
      let ok = false;
      for (const d of digests) ok = timingSafeEqual(d, given) || ok;
      return ok;
    },
    noAuthenticationHeader: { message: missing },
    // Not a Bearer header at all, or a Bearer token no configured key could equal (keys are
    // checked at start to be valid tokens).
    invalidAuthenticationHeader: { message: (c: Context) => (/^Bearer\s/i.test(c.req.header('authorization') ?? '') ? invalid(c) : missing(c)) },
    invalidToken: { message: invalid },
  });
}

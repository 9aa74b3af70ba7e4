import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { errorResponse, GatewayError } from '../errors.js';
import { nodeResponse, whenGone } from '../respond.js';

export interface KeyLimits {
  /** Requests per second one key may start (a token bucket of as many); 0: no limit. */
  requestsPerSecond: number;
  /** Requests one key may have running at once (streams count until they end); 0: no limit. */
  maxConcurrent: number;
}

interface KeyState {
  tokens: number;
  at: number;
  running: number;
}

/** Keys tracked at most: one entry per configured key, so this is only a guard. */
const MAX_KEYS = 10_000;

/**
 * Per-key limits, enforced by the entry agent (each agent on its own: a fleet of N agents lets
 * a key through up to N times the limit). Runs after apiKeyAuth, so only configured keys reach
 * it. Over a limit: 429 with Retry-After, in OpenAI's error shape.
 */
export function keyLimits(limits: KeyLimits, now: () => number = () => performance.now()): MiddlewareHandler {
  const byKey = new Map<string, KeyState>();
  return async function keyLimitsMiddleware(c, next) {
    if (limits.requestsPerSecond <= 0 && limits.maxConcurrent <= 0) return next();
    const match = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '');
    if (match === null) return next();
    const id = createHash('sha256').update(match[1]!.trim()).digest('hex');
    let state = byKey.get(id);
    if (state === undefined) {
      if (byKey.size >= MAX_KEYS) byKey.clear();
      state = { tokens: limits.requestsPerSecond, at: now(), running: 0 };
      byKey.set(id, state);
    }
    if (limits.requestsPerSecond > 0) {
      const t = now();
      state.tokens = Math.min(limits.requestsPerSecond, state.tokens + ((t - state.at) / 1_000) * limits.requestsPerSecond);
      state.at = t;
      if (state.tokens < 1) {
        const waitS = Math.max(1, Math.ceil((1 - state.tokens) / limits.requestsPerSecond));
        return errorResponse(c, new GatewayError('RATE_LIMITED', 429, 'rate_limit_error', `This key is over its limit of ${limits.requestsPerSecond} requests per second on this agent.`, { retryAfterS: waitS }));
      }
    }
    if (limits.maxConcurrent > 0 && state.running >= limits.maxConcurrent) {
      return errorResponse(c, new GatewayError('TOO_MANY_CONCURRENT', 429, 'rate_limit_error', `This key already has ${state.running} requests running on this agent, its limit.`, { retryAfterS: 1 }));
    }
    if (limits.requestsPerSecond > 0) state.tokens -= 1;
    if (limits.maxConcurrent <= 0) return next();
    const held = state;
    held.running++;
    let released = false;
    const release = () => {
      if (!released) held.running--;
      released = true;
    };
    // A stream holds its slot until its last byte, or until the client goes away.
    const res = nodeResponse(c);
    if (res !== undefined) whenGone(res, release);
    try {
      await next();
    } catch (err) {
      release();
      throw err;
    }
    if (res !== undefined) return;
    const body = c.res.body;
    if (body === null) {
      release();
      return;
    }
    const counted = body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ flush: release }));
    c.req.raw.signal.addEventListener('abort', release, { once: true });
    c.res = new Response(counted, c.res);
  };
}

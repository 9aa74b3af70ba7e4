import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FleetEvent, MembershipView } from '@synkti/fleet';
import { seededRng, silentLogger, UpstreamCode, UpstreamError } from '@synkti/interface';
import { type ForwardResponse, sampleNodeState } from '@synkti/protocol';
import fc from 'fast-check';
import type { FleetSource } from '../fleet-source.js';
import { describeCompletion } from './completion.js';
import { RequestPath } from './request-path.js';

const MODEL = 'm';
const enc = new TextEncoder();
const PEERS = ['p1', 'p2', 'p3', 'p4'];

function fleet(): FleetSource {
  const view = new MembershipView('f');
  for (const peerId of PEERS) view.observe(sampleNodeState({ fleet: 'f', peerId, engine: { state: 'warm', models: [MODEL], inStateMs: 0 } }), 0);
  return { selfId: 'p1', fleet: 'f', now: () => 0, peers: () => view.snapshot(0), events: (): FleetEvent[] => [] };
}

/**
 * What one attempt does: answer whole, refuse, break before or after its first token, hand over,
 * answer 503, send an engine error event; go silent before its first token (the deadline) or
 * mid-way (the stall watchdog), or mid-way until membership declares the peer dead; fail
 * mid-way with a final (not retryable) error, or with an error no target should throw.
 */
const outcomes = ['ok', 'refuse', 'break-early', 'break-late', 'handover', 'status-503', 'error-event', 'hang-first', 'stall-late', 'peer-lost', 'final-late', 'bug-late'] as const;
/** Deadlines of the property's request path: short, so silent attempts end within a run. */
const DEADLINE_MS = 20;
const forever = () => new Promise<never>(() => undefined);
type Outcome = (typeof outcomes)[number];

function target(script: Outcome[], lose: (peer: string) => void) {
  let n = 0;
  return async (peer: string, _head: unknown, bytes: Uint8Array): Promise<ForwardResponse> => {
    const outcome = script[n++ % script.length]!;
    const body = JSON.parse(new TextDecoder().decode(bytes)) as { max_tokens: number; stream?: boolean };
    if (outcome === 'refuse') throw new UpstreamError('NODE_DRAINING', 'draining', { retryable: true });
    if (outcome === 'status-503') return { status: 503, headers: {}, body: (async function* () { yield enc.encode('{}'); })() };
    const chunk = (content: string, finish: string | null) => enc.encode(`data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: MODEL, choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`);
    return {
      status: 200,
      headers: { 'content-type': body.stream === true ? 'text/event-stream' : 'application/json' },
      body: (async function* () {
        if (outcome === 'break-early') throw new UpstreamError('FORWARD_STREAM_BROKEN', 'lost', { retryable: true, phase: 'after-head' });
        if (outcome === 'hang-first') await forever();
        if (body.stream !== true) return void (yield enc.encode('{"ok":true}'));
        for (let i = 0; i < body.max_tokens; i++) {
          if (i === 2 && outcome === 'break-late') throw new UpstreamError('FORWARD_STREAM_BROKEN', 'lost', { retryable: true, phase: 'after-head' });
          if (i === 2 && outcome === 'handover') throw new UpstreamError(UpstreamCode.HANDOVER, 'leaving', { retryable: true, phase: 'after-head' });
          if (i === 2 && outcome === 'error-event') return void (yield enc.encode('data: {"error": {"message": "dead"}}\n\ndata: [DONE]\n\n'));
          if (i === 2 && outcome === 'stall-late') await forever();
          if (i === 2 && outcome === 'peer-lost') {
            setTimeout(() => lose(peer), 2);
            await forever();
          }
          if (i === 2 && outcome === 'final-late') throw new UpstreamError('FINAL', 'no peer can do better', { retryable: false, phase: 'after-head' });
          if (i === 2 && outcome === 'bug-late') throw new TypeError('a bug on the way');
          yield chunk(` t${i}`, i === body.max_tokens - 1 ? 'length' : null);
        }
        yield enc.encode('data: [DONE]\n\n');
      })(),
    };
  };
}

describe('in-flight accounting', () => {
  it('returns exactly to zero after any mix of success, refusal, break, hand-over, migration, 503, deadline, stall, dead peer, final error and client cancel', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...outcomes), { minLength: 1, maxLength: 12 }),
        fc.array(fc.record({ stream: fc.boolean(), cancelAfterChunks: fc.option(fc.integer({ min: 0, max: 4 }), { nil: null }), json: fc.boolean() }), { minLength: 1, maxLength: 6 }),
        async (script, requests) => {
          const limits = { migrationLimit: 2, firstTokenTimeoutMs: DEADLINE_MS, responseTimeoutMs: DEADLINE_MS, streamStallTimeoutMs: DEADLINE_MS };
          const path: RequestPath = new RequestPath({ fleet: fleet(), target: { send: target(script, (peer) => path.peerLost(peer, 'dead')) }, rng: seededRng(7), logger: silentLogger, affinityLoadFactor: 1.25, retryAfterS: 1, limits });
          await Promise.all(requests.map(async (r, i) => {
            const json: Record<string, unknown> = { model: MODEL, messages: [{ role: 'user', content: `q${i}` }], max_tokens: 6, stream: r.stream, ...(r.json ? { response_format: { type: 'json_object' } } : {}) };
            const client = new AbortController();
            try {
              const served = await path.serve({ model: MODEL, head: { requestId: `r${i}`, method: 'POST', path: '/v1/chat/completions', headers: {} }, body: enc.encode(JSON.stringify(json)), completion: describeCompletion('chat', json), signal: client.signal });
              const body = served.body;
              if (body instanceof Uint8Array) return;
              for (let chunks = 0; ; chunks++) {
                if (r.cancelAfterChunks !== null && chunks >= r.cancelAfterChunks) {
                  client.abort();
                  body.cancel(new Error('client went away'));
                  break;
                }
                if ((await body.read()).last) break;
              }
            } catch {
              // a failed request (502/503, an aborted stream) is an outcome like any other
            }
          }));
          assert.deepEqual([...path.inFlight()], [], `in flight after ${JSON.stringify({ script, requests })}`);
          assert.equal(path.activeResponses, 0, 'no response left open');
        },
      ),
      { numRuns: 150, seed: 42 },
    );
  });
});

import { ImdsError } from '../errors.js';

export type NoticeKind = 'terminate' | 'stop' | 'hibernate' | 'rebalance';

/** An interruption notice as the agent gossips it (the protocol's Interruption has the same shape). */
export interface ImdsNotice {
  kind: NoticeKind;
  /** Epoch ms when EC2 takes the instance; null for a rebalance recommendation. */
  deadline: number | null;
  /** Epoch ms when this agent first saw it. */
  noticedAt: number;
}

const ACTIONS: ReadonlySet<string> = new Set(['terminate', 'stop', 'hibernate']);

function parseJson(path: string, body: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(body);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through to the typed error below
  }
  throw new ImdsError(`IMDS ${path}: not a JSON object: ${body.slice(0, 200)}`, 200);
}

function parseTime(path: string, value: unknown): number {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw new ImdsError(`IMDS ${path}: bad time ${JSON.stringify(value)}`, 200);
  return ms;
}

/** `spot/instance-action`: `{"action":"terminate","time":"2026-11-23T08:22:00Z"}`. */
export function parseInstanceAction(body: string, now: number): { notice: ImdsNotice; key: string } {
  const json = parseJson('spot/instance-action', body);
  const action = json['action'];
  if (typeof action !== 'string' || !ACTIONS.has(action)) {
    throw new ImdsError(`IMDS spot/instance-action: unknown action ${JSON.stringify(action)}`, 200);
  }
  const deadline = parseTime('spot/instance-action', json['time']);
  return { notice: { kind: action as NoticeKind, deadline, noticedAt: now }, key: `${action}@${deadline}` };
}

/** `events/recommendations/rebalance`: `{"noticeTime":"2026-11-23T08:17:00Z"}`. */
export function parseRebalance(body: string, now: number): { notice: ImdsNotice; key: string } {
  const json = parseJson('events/recommendations/rebalance', body);
  const noticeTime = parseTime('events/recommendations/rebalance', json['noticeTime']);
  return { notice: { kind: 'rebalance', deadline: null, noticedAt: now }, key: `rebalance@${noticeTime}` };
}

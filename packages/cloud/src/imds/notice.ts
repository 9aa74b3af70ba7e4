import { ImdsError } from '../errors.js';

export type NoticeKind = 'terminate' | 'stop' | 'hibernate' | 'rebalance';

/** An interruption notice as the agent gossips it (the protocol's Interruption has the same shape). */
export interface ImdsNotice {
  kind: NoticeKind;
  /**
   * Epoch ms when EC2 takes the instance. A rebalance-kind notice has none for a rebalance
   * recommendation, and the earliest start of the window (NotBefore) for scheduled
   * maintenance: shown to operators, never a drain deadline (the node keeps serving until its
   * replacement is warm).
   */
  deadline: number | null;
  /** Epoch ms when this agent first saw it. */
  noticedAt: number;
  /** What the kind alone does not say, for logs: `maintenance <code> <event ID>` for a scheduled event. */
  reason?: string;
}

/** A parsed notice and the key the watcher emits it under once. */
export interface ParsedNotice {
  notice: ImdsNotice;
  key: string;
}

const ACTIONS: ReadonlySet<string> = new Set(['terminate', 'stop', 'hibernate']);

/** Path of the scheduled maintenance events: a JSON array, `[]` (or 404) while there are none. */
export const IMDS_PATH_MAINTENANCE_SCHEDULED = 'latest/meta-data/events/maintenance/scheduled';

/**
 * Scheduled event codes that take this instance down or away: each becomes an early, planned
 * departure (a rebalance-kind notice). All five cost the node its engine for minutes at least
 * (a reboot loses the container and its loaded model; a stop or retirement loses the node),
 * so the fleet replaces it while it still serves. The list of codes is EC2's whole enum
 * (API InstanceStatusEvent.Code); an unknown future code is ignored rather than guessed at.
 */
export const MAINTENANCE_DEPARTURE_CODES: ReadonlySet<string> = new Set([
  'instance-stop',
  'instance-retirement',
  'instance-reboot',
  'system-reboot',
  'system-maintenance',
]);

/** States of an event that is over: kept in the listing for a while, nothing to act on (as in AWS Node Termination Handler). */
const MAINTENANCE_DONE_STATES: ReadonlySet<string> = new Set(['completed', 'canceled']);

function parseJson(path: string, body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new ImdsError(`IMDS ${path}: not JSON: ${body.slice(0, 200)}`, 200);
  }
}

function parseObject(path: string, body: string): Record<string, unknown> {
  const value = parseJson(path, body);
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new ImdsError(`IMDS ${path}: not a JSON object: ${body.slice(0, 200)}`, 200);
}

function parseTime(path: string, value: unknown): number {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw new ImdsError(`IMDS ${path}: bad time ${JSON.stringify(value)}`, 200);
  return ms;
}

/** `spot/instance-action`: `{"action":"terminate","time":"2026-11-23T08:22:00Z"}`. */
export function parseInstanceAction(body: string, now: number): ParsedNotice {
  const json = parseObject('spot/instance-action', body);
  const action = json['action'];
  if (typeof action !== 'string' || !ACTIONS.has(action)) {
    throw new ImdsError(`IMDS spot/instance-action: unknown action ${JSON.stringify(action)}`, 200);
  }
  const deadline = parseTime('spot/instance-action', json['time']);
  return { notice: { kind: action as NoticeKind, deadline, noticedAt: now }, key: `${action}@${deadline}` };
}

/** `events/recommendations/rebalance`: `{"noticeTime":"2026-11-23T08:17:00Z"}`. */
export function parseRebalance(body: string, now: number): ParsedNotice {
  const json = parseObject('events/recommendations/rebalance', body);
  const noticeTime = parseTime('events/recommendations/rebalance', json['noticeTime']);
  return { notice: { kind: 'rebalance', deadline: null, noticedAt: now }, key: `rebalance@${noticeTime}` };
}

/**
 * `events/maintenance/scheduled`: `[{"NotBefore":"21 Jan 2019 09:00:43 GMT","Code":"system-reboot",
 * "Description":"scheduled reboot","EventId":"instance-event-0d59937288b749b32","NotAfter":"21 Jan
 * 2019 09:17:23 GMT","State":"active"}]`. Every event that is not over and whose code takes the
 * instance down becomes a rebalance-kind notice, keyed by its event ID (emitted once however
 * often it is polled). A NotBefore that does not parse leaves the deadline empty rather than
 * dropping the event: the departure matters more than the countdown.
 */
export function parseScheduledMaintenance(body: string, now: number): ParsedNotice[] {
  const path = 'events/maintenance/scheduled';
  if (body.trim() === '') return [];
  const events = parseJson(path, body);
  if (!Array.isArray(events)) throw new ImdsError(`IMDS ${path}: not a JSON array: ${body.slice(0, 200)}`, 200);
  const notices: ParsedNotice[] = [];
  for (const event of events as unknown[]) {
    if (typeof event !== 'object' || event === null) throw new ImdsError(`IMDS ${path}: an event is not an object`, 200);
    const { Code: code, State: state, EventId: eventId, NotBefore: notBefore } = event as Record<string, unknown>;
    if (typeof code !== 'string' || !MAINTENANCE_DEPARTURE_CODES.has(code)) continue;
    if (typeof state === 'string' && MAINTENANCE_DONE_STATES.has(state)) continue;
    const start = typeof notBefore === 'string' ? Date.parse(notBefore) : Number.NaN;
    const id = typeof eventId === 'string' && eventId !== '' ? eventId : `${code}@${String(notBefore)}`;
    notices.push({
      notice: { kind: 'rebalance', deadline: Number.isFinite(start) ? start : null, noticedAt: now, reason: `maintenance ${code} ${id}` },
      key: `maintenance@${id}`,
    });
  }
  return notices;
}

import { type Clock, type Logger, type Startable, type TimerHandle, silentLogger, systemClock, deadlineSignal } from '@synkti/interface';
import { z } from 'zod';
import {
  IMDS_PATH_INSTANCE_ACTION,
  IMDS_PATH_REBALANCE,
  IMDS_POLL_INTERVAL_MS,
  IMDS_REQUEST_TIMEOUT_MS,
  IMDS_TOKEN_TTL_SECONDS,
  MAX_NOTICE_LISTENERS,
  MAX_SEEN_NOTICES,
} from '../constants.js';
import { CloudConfigError } from '../errors.js';
import { type ImdsClient, imdsClient } from './client.js';
import {
  IMDS_PATH_MAINTENANCE_SCHEDULED,
  type ImdsNotice,
  type ParsedNotice,
  parseInstanceAction,
  parseRebalance,
  parseScheduledMaintenance,
} from './notice.js';

/**
 * How often scheduled maintenance is polled: EC2 posts those events days ahead (at least
 * hours), so a minute is early enough and 30x fewer requests than the spot path needs.
 */
export const IMDS_MAINTENANCE_POLL_INTERVAL_MS = 60_000;
/**
 * Deadline of one path's poll, whatever the client does inside it (token fetch, GET, one more
 * GET after a 401): three request timeouts. A poll past it is a failed poll, logged and retried.
 */
export const IMDS_POLL_DEADLINE_REQUESTS = 3;

export const imdsWatcherConfigSchema = z.object({
  /** IMDS base URL (local fleets point each agent at its own fake IMDS); absent: the SDK's default. */
  endpoint: z.url({ protocol: /^https?$/ }).optional(),
  pollIntervalMs: z.number().int().min(100).max(60_000).default(IMDS_POLL_INTERVAL_MS),
  /** Scheduled maintenance polling; never more often than the notice poll (it rides on its timer). */
  maintenancePollIntervalMs: z.number().int().min(100).max(3_600_000).default(IMDS_MAINTENANCE_POLL_INTERVAL_MS),
  requestTimeoutMs: z.number().int().min(1).max(30_000).default(IMDS_REQUEST_TIMEOUT_MS),
  tokenTtlSeconds: z.number().int().min(1).max(21_600).default(IMDS_TOKEN_TTL_SECONDS),
});
export type ImdsWatcherInit = z.input<typeof imdsWatcherConfigSchema>;

export interface ImdsWatcherComponents {
  clock?: Clock;
  logger?: Logger;
  /** A ready client (tests); absent: one built from the config. */
  client?: ImdsClient;
}

export interface ImdsWatcher extends Startable {
  /** Calls `fn` once per distinct notice; returns a function that unsubscribes. */
  onNotice(fn: (notice: ImdsNotice) => void): () => void;
  /** Every distinct notice seen, oldest first (bounded). */
  readonly notices: readonly ImdsNotice[];
  /** Resolves when the poll in flight (if any) has finished: tests advance the clock, then await this. */
  settled(): Promise<void>;
}

interface Source {
  path: string;
  parse: (body: string, now: number) => ParsedNotice[];
  /** Polled every `maintenancePollIntervalMs` instead of every poll. */
  slow: boolean;
}

const SOURCES: readonly Source[] = [
  { path: IMDS_PATH_INSTANCE_ACTION, parse: (body, now) => [parseInstanceAction(body, now)], slow: false },
  { path: IMDS_PATH_REBALANCE, parse: (body, now) => [parseRebalance(body, now)], slow: false },
  // A scheduled reboot, stop or retirement is a departure known in advance: it becomes a
  // rebalance-kind notice, so the node keeps serving while the fleet launches its replacement.
  { path: IMDS_PATH_MAINTENANCE_SCHEDULED, parse: parseScheduledMaintenance, slow: true },
];

/**
 * Polls IMDSv2 for a spot interruption notice and a rebalance recommendation every
 * `pollIntervalMs`, and for scheduled maintenance every `maintenancePollIntervalMs` (all of
 * them at start), on the injected clock. 404 means no notice; each distinct notice is emitted
 * once; errors (IMDS down, 401, bad JSON, a poll past its deadline) are logged — a warning when
 * a path starts failing, debug while it keeps failing, info when it recovers — and never stop
 * the polling.
 */
export function imdsWatcher(init: ImdsWatcherInit = {}, components: ImdsWatcherComponents = {}): ImdsWatcher {
  const parsed = imdsWatcherConfigSchema.safeParse(init);
  if (!parsed.success) throw new CloudConfigError(`invalid IMDS watcher config: ${parsed.error.message}`, { cause: parsed.error });
  const config = parsed.data;
  const clock = components.clock ?? systemClock;
  const log = (components.logger ?? silentLogger).child({ component: 'cloud:imds' });
  const client =
    components.client ??
    imdsClient(
      { ...(config.endpoint ? { endpoint: config.endpoint } : {}), requestTimeoutMs: config.requestTimeoutMs, tokenTtlSeconds: config.tokenTtlSeconds },
      { clock },
    );
  const listeners = new Set<(notice: ImdsNotice) => void>();
  const seen = new Set<string>();
  const notices: ImdsNotice[] = [];
  const failing = new Set<string>();
  let running = false;
  let timer: TimerHandle | null = null;
  let inFlight: Promise<void> | null = null;
  let abort: AbortController | null = null;
  let nextMaintenanceAt = Number.NEGATIVE_INFINITY;
  const pollDeadlineMs = config.requestTimeoutMs * IMDS_POLL_DEADLINE_REQUESTS;

  function emit(key: string, notice: ImdsNotice): void {
    if (seen.has(key)) return;
    seen.add(key);
    notices.push(notice);
    if (notices.length > MAX_SEEN_NOTICES) notices.shift();
    if (seen.size > MAX_SEEN_NOTICES) seen.delete(seen.values().next().value as string);
    log.warn({ notice }, 'interruption notice');
    for (const fn of listeners) {
      try {
        fn(notice);
      } catch (err) {
        log.error({ err }, 'notice listener threw');
      }
    }
  }

  async function pollPath(source: Source, stopped: AbortSignal): Promise<void> {
    try {
      const body = await client.get(source.path, deadlineSignal(pollDeadlineMs, stopped));
      if (failing.delete(source.path)) log.info({ path: source.path }, 'IMDS answers again');
      if (body === null) return;
      for (const { key, notice } of source.parse(body, clock.now())) emit(key, notice);
    } catch (err) {
      // Stopping is quiet; a deadline that passed is a failed poll like any other.
      if (stopped.aborted) return;
      const first = !failing.has(source.path);
      failing.add(source.path);
      (first ? log.warn : log.debug).call(log, { err, path: source.path }, 'IMDS poll failed; will retry');
    }
  }

  async function poll(): Promise<void> {
    abort = new AbortController();
    const now = clock.now();
    const slowDue = now >= nextMaintenanceAt;
    if (slowDue) nextMaintenanceAt = now + config.maintenancePollIntervalMs;
    await Promise.all(SOURCES.filter((s) => slowDue || !s.slow).map((s) => pollPath(s, abort!.signal)));
  }

  function tick(): void {
    timer = null;
    if (!running) return;
    inFlight = poll().finally(() => {
      inFlight = null;
      if (running) timer = clock.setTimeout(tick, config.pollIntervalMs);
    });
  }

  return {
    notices,
    onNotice(fn) {
      if (listeners.size >= MAX_NOTICE_LISTENERS) throw new CloudConfigError(`more than ${MAX_NOTICE_LISTENERS} notice listeners`);
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    async start() {
      if (running) return;
      running = true;
      log.info({ endpoint: config.endpoint ?? 'default', pollIntervalMs: config.pollIntervalMs, maintenancePollIntervalMs: config.maintenancePollIntervalMs }, 'watching IMDS');
      tick();
    },
    async stop() {
      if (!running) return;
      running = false;
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
      abort?.abort(new Error('IMDS watcher stopped'));
      await inFlight;
    },
    async settled() {
      await inFlight;
    },
  };
}

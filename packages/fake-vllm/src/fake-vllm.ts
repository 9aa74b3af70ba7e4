import { EventEmitter } from 'node:events';
import { getRequestListener } from '@hono/node-server';
import { createApp } from './app.js';
import { Engine } from './engine.js';
import { FakeVllmError } from './errors.js';
import { type Faults, type FaultsPatch, faultsPatchSchema, NO_FAULTS } from './faults.js';
import { HealthDelay } from './health.js';
import { listen, reservePort, urlOf } from './listen.js';
import { type FakeVllmConfig, type FakeVllmOptions, parseOptions } from './options.js';
import { type Listener, ServerShell } from './server-shell.js';
import type { FakeVllmPhase, FakeVllmStats } from './stats.js';
import { describeZodError } from './zod-message.js';

export interface FakeVllmAddress {
  port: number;
  /** `http://host:port`, without a trailing slash; the OpenAI base URL is `${url}/v1`. */
  url: string;
}

export interface FakeVllmEvents {
  /** The port is open (at once in '503' and 'accept-close' modes; when loaded in 'closed' mode). */
  listening: [FakeVllmAddress];
  /** Loaded: /health answers 200. */
  ready: [];
  /** The engine died (EngineDeadError): /health is 503; 'crash' follows after deathExitMs. */
  dead: [];
  /** An injected crash, the exit after an engine death (or a failed late listen): every socket was destroyed. */
  crash: [FakeVllmError];
}

type Timer = ReturnType<typeof setTimeout>;
/** Faults that fire a given time after they are asked for. */
const DELAYED_FAULTS = ['crashAfterMs', 'hangAfterMs', 'stallAfterMs', 'dieAfterMs'] as const;
type DelayedFault = (typeof DELAYED_FAULTS)[number];

/**
 * One emulated vLLM server "process". Each start() is a fresh process: new counters, new
 * queue; a crash or stop() kills every connection at once. Starting twice or stopping before
 * start is harmless. Shaped like `Startable`, except that start() also tells the address.
 */
export class FakeVllm extends EventEmitter<FakeVllmEvents> {
  readonly config: FakeVllmConfig;
  #phase: FakeVllmPhase = 'stopped';
  readonly #faults: Faults = { ...NO_FAULTS };
  #engine: Engine;
  #shell: ServerShell | null = null;
  readonly #healthDelay = new HealthDelay();
  #address: FakeVllmAddress | null = null;
  #starting: Promise<FakeVllmAddress> | null = null;
  #loadStartedAt = 0;
  readonly #timers: Partial<Record<DelayedFault | 'load' | 'exit', Timer>> = {};
  /** What each delayed fault does when its time comes. */
  readonly #fire: Record<DelayedFault, () => void> = {
    crashAfterMs: () => this.#crash(new FakeVllmError('CRASHED', 'injected crash')),
    hangAfterMs: () => this.#setHang(true),
    stallAfterMs: () => this.#setStall(true),
    dieAfterMs: () => this.#engine.die(),
  };

  constructor(options?: FakeVllmOptions) {
    super();
    this.config = parseOptions(options);
    this.#engine = this.#newEngine();
    this.setFaults(this.config.faults);
  }

  get address(): FakeVllmAddress | null {
    return this.#address;
  }

  /** Resolves once the address is known; in 'closed' mode the port opens later (see 'listening'). */
  start(): Promise<FakeVllmAddress> {
    this.#starting ??= this.#start().catch((err: unknown) => {
      this.#starting = null;
      this.#phase = 'stopped';
      void this.#teardown();
      throw err;
    });
    return this.#starting;
  }

  async stop(): Promise<void> {
    await this.#starting?.catch(() => undefined);
    if (this.#phase === 'stopped') return;
    this.#phase = 'stopped';
    this.#clearTimers();
    this.#engine.shutdown(new Error('the engine stopped'));
    await this.#teardown();
    this.#starting = null;
    this.#address = null;
  }

  /** Changes the faults named in `patch`; throws INVALID_FAULTS on a bad patch. */
  setFaults(patch: FaultsPatch): void {
    const parsed = faultsPatchSchema.safeParse(patch);
    if (!parsed.success) throw new FakeVllmError('INVALID_FAULTS', `invalid faults: ${describeZodError(parsed.error)}`);
    const p = parsed.data;
    const f = this.#faults;
    if (p.errorRate !== undefined) f.errorRate = p.errorRate;
    if (p.dropStreamAfterTokens !== undefined) f.dropStreamAfterTokens = p.dropStreamAfterTokens;
    if (p.slowStartMs !== undefined) {
      f.slowStartMs = p.slowStartMs;
      if (this.#phase === 'loading') this.#scheduleLoad();
    }
    if (p.healthDelayMs !== undefined || p.healthDelayPerRequestMs !== undefined) {
      f.healthDelayMs = p.healthDelayMs ?? f.healthDelayMs;
      f.healthDelayPerRequestMs = p.healthDelayPerRequestMs ?? f.healthDelayPerRequestMs;
      this.#healthDelay.changed();
    }
    this.#setHoldFaults(p);
    if (p.crashAfterMs !== undefined) f.crashAfterMs = p.crashAfterMs;
    // Deferred by a timer even when immediate, so a control request that asked still gets its answer.
    if (p.crash === true) f.crashAfterMs = 0;
    if ((p.crash === true || p.crashAfterMs !== undefined) && this.#alive()) this.#arm('crashAfterMs');
    this.#setDeathFaults(p);
  }

  /** The faults that hold requests: a hang (health included) and a stall (engine only). */
  #setHoldFaults(p: FaultsPatch): void {
    const f = this.#faults;
    if (p.hang !== undefined) this.#setHang(p.hang);
    if (p.hangAfterMs !== undefined) {
      f.hangAfterMs = p.hangAfterMs;
      if (this.#alive()) this.#arm('hangAfterMs');
    }
    if (p.stall !== undefined) this.#setStall(p.stall);
    if (p.stallAfterMs !== undefined) {
      f.stallAfterMs = p.stallAfterMs;
      if (this.#alive()) this.#arm('stallAfterMs');
    }
  }

  /** The engine-death faults; a death itself is immediate (the server stays up until deathExitMs). */
  #setDeathFaults(p: FaultsPatch): void {
    const f = this.#faults;
    if (p.deathExitMs !== undefined) f.deathExitMs = p.deathExitMs;
    if (p.dieAfterTokens !== undefined) {
      f.dieAfterTokens = p.dieAfterTokens;
      if (this.#alive()) this.#engine.dieAfterTokens(p.dieAfterTokens);
    }
    if (p.dieAfterMs !== undefined) f.dieAfterMs = p.dieAfterMs;
    if (p.die === true && !this.#alive()) f.dieAfterMs = 0;
    if (p.dieAfterMs !== undefined && this.#alive()) this.#arm('dieAfterMs');
    if (p.die === true && this.#alive()) this.#engine.die();
  }

  stats(): FakeVllmStats {
    const engine = this.#engine;
    const gauges = engine.gauges();
    return {
      phase: this.#phase,
      running: gauges.running,
      waiting: gauges.waiting,
      ...engine.outcomes,
      held: this.#shell?.held ?? 0,
      healthWaiting: this.#healthDelay.waiting,
      promptTokens: engine.metrics.promptTokens,
      generationTokens: engine.metrics.generationTokens,
      faults: { ...this.#faults },
    };
  }

  async #start(): Promise<FakeVllmAddress> {
    const { host, port, loadMode } = this.config;
    this.#engine = this.#newEngine();
    this.#engine.setHung(this.#faults.hang);
    this.#engine.setStalled(this.#faults.stall);
    const app = createApp({
      config: this.config,
      engine: this.#engine,
      faults: () => this.#faults,
      // A dead engine's API server still answers (health 503, completions 500), like vLLM's.
      isReady: () => this.#phase === 'ready' || this.#phase === 'dead',
      control: { stats: () => this.stats(), setFaults: (patch) => this.setFaults(patch) },
      healthDelay: this.#healthDelay,
    });
    const shell = new ServerShell({
      listener: getRequestListener(app.fetch) as Listener,
      // Behind docker's port proxy: accepted, then closed without a byte, until loaded.
      refusing: () => loadMode === 'accept-close' && this.#phase === 'loading',
      hung: () => this.#faults.hang,
    });
    this.#shell = shell;
    this.#phase = 'loading';
    this.#loadStartedAt = Date.now();
    const instant = this.#loadRemainingMs() <= 0;
    // 'closed' opens the port when loaded; an instant load binds at once (port 0 needs no reservation).
    const openNow = loadMode !== 'closed' || instant;
    const bound = openNow ? await listen(shell.server, port, host) : port || (await reservePort(host));
    this.#address = { port: bound, url: urlOf(host, bound) };
    if (openNow) this.emit('listening', this.#address);
    for (const fault of DELAYED_FAULTS) this.#arm(fault);
    if (this.#faults.dieAfterTokens !== null) this.#engine.dieAfterTokens(this.#faults.dieAfterTokens);
    // An instant load completes inside start(), so a caller can use the server at once.
    if (instant) await this.#loaded();
    else this.#scheduleLoad();
    return this.#address;
  }

  #newEngine(): Engine {
    return new Engine(this.config, { onDeath: () => this.#onEngineDeath() });
  }

  #alive(): boolean {
    return this.#phase === 'loading' || this.#phase === 'ready' || this.#phase === 'dead';
  }

  #loadRemainingMs(): number {
    return this.#loadStartedAt + this.config.loadMs + this.#faults.slowStartMs - Date.now();
  }

  #scheduleLoad(): void {
    clearTimeout(this.#timers.load);
    this.#timers.load = setTimeout(() => {
      this.#loaded().catch((err: unknown) => this.#crash(err as FakeVllmError));
    }, Math.max(0, this.#loadRemainingMs()));
  }

  async #loaded(): Promise<void> {
    const shell = this.#shell;
    const address = this.#address;
    if (this.#phase !== 'loading' || shell === null || address === null) return;
    if (!shell.server.listening) {
      await listen(shell.server, address.port, this.config.host);
      // stop() or a crash while binding: this server is already torn down.
      if (this.#shell !== shell || this.#phase !== 'loading') {
        shell.server.close();
        return;
      }
      this.emit('listening', address);
    }
    this.#phase = 'ready';
    this.emit('ready');
  }

  /** (Re)arms the timer of a delayed fault from its current value; null disarms it. */
  #arm(fault: DelayedFault): void {
    clearTimeout(this.#timers[fault]);
    const ms = this.#faults[fault];
    if (ms === null) return;
    this.#timers[fault] = setTimeout(() => {
      this.#faults[fault] = null;
      this.#fire[fault]();
    }, ms);
  }

  /** vLLM's API server outlives its engine briefly, answering errors, then exits. */
  #onEngineDeath(): void {
    if (!this.#alive() || this.#phase === 'dead') return;
    this.#phase = 'dead';
    clearTimeout(this.#timers.dieAfterMs);
    this.#faults.dieAfterMs = null;
    this.#faults.dieAfterTokens = null;
    this.emit('dead');
    const ms = this.#faults.deathExitMs;
    if (ms === null) return;
    this.#timers.exit = setTimeout(() => {
      this.#crash(new FakeVllmError('CRASHED', 'the engine died (EngineDeadError) and the server exited'));
    }, ms);
  }

  #setHang(hang: boolean): void {
    this.#faults.hang = hang;
    this.#engine.setHung(hang);
    if (!hang) this.#shell?.releaseHeld();
  }

  #setStall(stall: boolean): void {
    this.#faults.stall = stall;
    this.#engine.setStalled(stall);
  }

  /** Like a killed process: no goodbye, every connection reset, then the event. */
  #crash(err: FakeVllmError): void {
    if (!this.#alive()) return;
    this.#phase = 'crashed';
    this.#clearTimers();
    this.#engine.shutdown(err);
    void this.#teardown();
    this.#starting = null;
    this.emit('crash', err);
  }

  #clearTimers(): void {
    for (const timer of Object.values(this.#timers)) clearTimeout(timer);
  }

  async #teardown(): Promise<void> {
    const shell = this.#shell;
    this.#shell = null;
    await shell?.close();
  }
}

/** The package's entry point: an emulated vLLM server, not yet started. */
export function createFakeVllm(options?: FakeVllmOptions): FakeVllm {
  return new FakeVllm(options);
}

import type { Logger } from '@synkti/interface';
import { pino } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'auto' | 'json' | 'pretty';

/** pino JSON for machines, pretty lines when a person watches the terminal. Logs go to stderr. */
export function createLogger(level: string, format: LogFormat, bindings: Record<string, unknown> = {}): Logger & { level: string } {
  const usePretty = format === 'pretty' || (format === 'auto' && process.stderr.isTTY === true);
  const options = { level, base: { pid: process.pid, ...bindings } };
  if (usePretty) return pino(options, pretty({ destination: 2, colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' }));
  // Synchronous: the agent exits with process.exit after a drain, and async buffers would lose the last lines.
  return pino(options, pino.destination({ fd: 2, sync: true }));
}

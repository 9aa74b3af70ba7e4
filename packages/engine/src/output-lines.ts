import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Logger } from '@synkti/interface';
import { MAX_LOG_LINE_CHARS } from './constants.js';

/** Logs each line of an engine's stdout or stderr as a structured field, cut to a bounded length. */
export function pipeLinesToLogger(stream: Readable | null, logger: Logger, streamName: 'stdout' | 'stderr'): void {
  if (stream === null) return;
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on('line', (raw) => {
    const line = raw.length > MAX_LOG_LINE_CHARS ? `${raw.slice(0, MAX_LOG_LINE_CHARS)}…` : raw;
    logger.info({ stream: streamName, line }, 'engine output');
  });
  lines.on('error', (err) => logger.warn({ err, stream: streamName }, 'engine output stream failed'));
}

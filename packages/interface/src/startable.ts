/**
 * Anything that owns a timer, socket or child process. Starting twice or stopping before
 * start must be harmless; owners stop components in reverse order of starting.
 */
export interface Startable {
  start(): Promise<void>;
  stop(): Promise<void>;
}

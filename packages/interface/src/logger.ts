/**
 * The slice of pino's logger that components use, so packages need not depend on pino to
 * accept one. Fields first, message second, as pino expects.
 */
export interface Logger {
  child(bindings: Record<string, unknown>): Logger;
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => {};

/** A logger that drops everything, for tests and library use without logging. */
export const silentLogger: Logger = {
  child: () => silentLogger,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
};

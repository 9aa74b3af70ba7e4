/**
 * The base of every Synkti error: a stable machine-readable `code`, a human message and an
 * optional `cause`. Interfaces map codes to their own convention (HTTP status, exit code).
 */
export class SynktiError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** True when `err` is a SynktiError carrying `code`. */
export function hasCode(err: unknown, code: string): boolean {
  return err instanceof SynktiError && err.code === code;
}

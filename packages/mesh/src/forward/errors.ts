import { SynktiError } from '@synkti/interface';

/**
 * A forward that failed. `retryable` is true only when nothing of the response reached the
 * requester yet and another peer may succeed; the gateway retries only those.
 */
export class ForwardError extends SynktiError {
  readonly retryable: boolean;

  constructor(code: string, message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(code, message, options);
    this.retryable = retryable;
  }
}

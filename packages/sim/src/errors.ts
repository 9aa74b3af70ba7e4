import { SynktiError } from '@synkti/interface';

/** Bad input to `synkti sim` or `runSimulation`: the message is one readable line. */
export class SimConfigError extends SynktiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SIM_BAD_CONFIG', message, options);
  }
}

/** The simulator broke one of its own invariants (a bug, not bad input). */
export class SimInvariantError extends SynktiError {
  constructor(message: string) {
    super('SIM_INVARIANT', message);
  }
}

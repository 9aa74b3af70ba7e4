/**
 * The agent's exit statuses, for the service manager. `LEFT_FLEET` means the node left on
 * purpose (drained after an interruption notice, or as surplus) and its instance was asked to
 * terminate: the systemd unit must not start the agent again (`RestartPreventExitStatus`), or a
 * billed GPU node would rejoin, be surplus again and drain again, in a loop.
 */
export const EXIT = {
  OK: 0,
  FAILED: 1,
  LEFT_FLEET: 10,
  /** A second SIGINT/SIGTERM while draining: out at once. */
  INTERRUPTED: 130,
} as const;

/** How long the agent tries to terminate its own instance before leaving it to the backstop. */
export const SELF_TERMINATE_TIMEOUT_MS = 30_000;

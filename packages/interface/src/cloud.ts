/** One place to launch: an instance type in a subnet (one Availability Zone). */
export interface PlacementSpec {
  instanceType: string;
  subnet: string;
  /** Launch on-demand instead of spot (a policy's fallback). */
  onDemand?: boolean;
}

export interface LaunchRequest {
  fleet: string;
  slot: string;
  /**
   * Idempotency token (EC2 ClientToken, at most 64 ASCII characters) derived only from facts
   * every peer shares: the same token twice launches one instance.
   */
  token: string;
  placement: PlacementSpec;
  /** The instance this launch replaces, if any (tagged `synkti:replaces`). */
  replaces: string | null;
}

export interface LaunchResult {
  instanceId: string;
  lifecycle: 'spot' | 'on-demand';
  /** True when the provider had already launched this token (an idempotent repeat). */
  existing: boolean;
}

export interface FleetInstance {
  instanceId: string;
  slot: string | null;
  state: 'pending' | 'running';
  lifecycle: 'spot' | 'on-demand';
  /** The idempotency token it was launched with (EC2's ClientToken); null when started by hand. */
  token: string | null;
  /** Launch time, epoch ms; null when unknown. */
  launchedAt: number | null;
  /** Its Availability Zone, when the provider reports one (a failed listing is retried zone by zone). */
  zone?: string | null;
  /**
   * Multiaddrs (without a peer ID) where the instance's agent listens, when the provider knows
   * them (EC2: its private IP and the fleet's libp2p port): how a node finds peers with no fixed
   * bootstrap node.
   */
  addrs?: readonly string[];
}

/**
 * A cloud that can add capacity to a fleet. Implementations: EC2 (RunInstances with a
 * ClientToken) and local (agent processes on this machine, tokens kept in a ledger).
 * `launch` must be idempotent on `token`; it throws a SynktiError with code
 * `INSUFFICIENT_CAPACITY` when this placement has no capacity (the caller tries the next one)
 * and `IDEMPOTENT_PARAMETER_MISMATCH` when the token was used with other parameters.
 */
export interface CloudProvider {
  readonly kind: string;
  launch(request: LaunchRequest, signal?: AbortSignal): Promise<LaunchResult>;
  /** The fleet's pending and running instances: the external witness of the replacement rule. */
  listInstances(fleet: string, signal?: AbortSignal): Promise<FleetInstance[]>;
  terminate(instanceId: string, signal?: AbortSignal): Promise<void>;
  /**
   * Pending and running instances launched with any of `tokens` (or with any of `instanceIds`),
   * asked directly rather than
   * through the fleet listing: the second look that confirms a launch is really gone before a
   * new generation replaces it. Optional: without it the listing alone decides.
   */
  findInstances?(query: InstanceQuery, signal?: AbortSignal): Promise<FleetInstance[]>;
  /**
   * The spot price in effect at `at` (epoch ms, a past instant every peer can name, such as the
   * start of the hour) of each placement, by its index in `placements`; placements without a
   * known price are left out. Optional: without it placements are spread, not priced.
   */
  spotPrices?(placements: readonly PlacementSpec[], at: number, signal?: AbortSignal): Promise<Map<number, number>>;
}

/** A direct look-up: by launch tokens, or by instance IDs (EC2 still answers those in an unaffected zone while another zone is impaired). */
export type InstanceQuery = { tokens: readonly string[] } | { instanceIds: readonly string[] };

/** Error codes providers use, so the replacer can tell capacity from configuration problems. */
export const CloudErrorCode = {
  INSUFFICIENT_CAPACITY: 'INSUFFICIENT_CAPACITY',
  IDEMPOTENT_PARAMETER_MISMATCH: 'IDEMPOTENT_PARAMETER_MISMATCH',
  PROVIDER_FAILED: 'PROVIDER_FAILED',
} as const;

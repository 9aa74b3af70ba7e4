/** One read of a response body: bytes for the client, and whether nothing follows them. */
export interface BodyChunk {
  bytes: Uint8Array | undefined;
  last: boolean;
}

/**
 * A response body the gateway pulls chunk by chunk: the one body type of the request path,
 * written straight to Node's socket or, off Node, wrapped as a web stream. `read` rejects when
 * the answer broke after bytes went out: the client's connection must then be aborted, never
 * ended cleanly.
 */
export interface BodySource {
  read(): Promise<BodyChunk>;
  /** The client went away: stop the upstream and release what the request holds. */
  cancel(reason: unknown): void;
}

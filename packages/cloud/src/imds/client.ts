import type { MetadataService } from '@aws-sdk/ec2-metadata-service';
import { type Clock, raceSignal, systemClock } from '@synkti/interface';
import { IMDS_MAX_BODY_CHARS, IMDS_REQUEST_TIMEOUT_MS, IMDS_TOKEN_REFRESH_MARGIN_MS, IMDS_TOKEN_TTL_SECONDS } from '../constants.js';
import { CloudConfigError, ImdsError } from '../errors.js';
import { loadOnce } from '../load-once.js';

export interface ImdsClientInit {
  /** IMDS base URL; absent: the SDK's resolution (AWS_EC2_METADATA_SERVICE_ENDPOINT, profile, then 169.254.169.254). */
  endpoint?: string;
  requestTimeoutMs?: number;
  tokenTtlSeconds?: number;
}

/** IMDSv2 reads: GET a path with a cached session token; 404 reads as null. */
export interface ImdsClient {
  get(path: string, signal?: AbortSignal): Promise<string | null>;
  /** Session tokens fetched so far (a test can see a 401 lead to a refetch). */
  readonly tokenFetches: number;
}

/**
 * The SDK module, loaded on first use: with its smithy dependencies it adds ~13 MiB of RSS (in a
 * bare Node process), and an agent off EC2 (local mode, other providers) never reads IMDS.
 */
type ImdsSdk = typeof import('@aws-sdk/ec2-metadata-service');
const imdsSdk = loadOnce((): Promise<ImdsSdk> =>
  import('@aws-sdk/ec2-metadata-service').catch((err: unknown) => {
    throw new CloudConfigError(`cannot load @aws-sdk/ec2-metadata-service, which reading IMDS needs: ${(err as Error).message}`, { cause: err });
  }),
);

/** Loads the IMDS SDK now: an agent that will read IMDS fails at start on a broken install, not silently at its first poll. */
export async function loadImdsSdk(): Promise<void> {
  await imdsSdk();
}

/** The HTTP status an SDK MetadataService error carries, if a response arrived. */
export function imdsStatus(err: unknown): number | null {
  const status = (err as { $metadata?: { httpStatusCode?: unknown } })?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : null;
}

/**
 * An IMDSv2 client on the SDK's MetadataService. The SDK's `request()` fetches a fresh token
 * for every GET and retries a 401 with real-time sleeps; here one MetadataService only
 * fetches tokens (cached until shortly before their TTL ends) and a second, with
 * `disableFetchToken`, sends GETs carrying that token. A 401 drops the token and the GET is
 * tried once more with a new one. SDK retries are off: the watcher's next poll is the retry.
 */
export function imdsClient(init: ImdsClientInit = {}, components: { clock?: Clock } = {}): ImdsClient {
  const clock = components.clock ?? systemClock;
  const timeout = init.requestTimeoutMs ?? IMDS_REQUEST_TIMEOUT_MS;
  const ttlSeconds = init.tokenTtlSeconds ?? IMDS_TOKEN_TTL_SECONDS;
  const endpoint = init.endpoint === undefined ? {} : { endpoint: init.endpoint.replace(/\/+$/, '') };
  const sdkServices = loadOnce(async (): Promise<{ tokens: MetadataService; reader: MetadataService }> => {
    const { MetadataService: Service } = await imdsSdk();
    return {
      tokens: new Service({ ...endpoint, httpOptions: { timeout }, retries: 0, tokenTtl: ttlSeconds }),
      reader: new Service({ ...endpoint, httpOptions: { timeout }, retries: 0, disableFetchToken: true, ec2MetadataV1Disabled: false }),
    };
  });
  let token: { value: string; refreshAt: number } | null = null;
  let tokenFetches = 0;

  let pending: Promise<string> | null = null;

  async function fetchToken(): Promise<string> {
    tokenFetches++;
    try {
      const { tokens } = await sdkServices();
      const value = await tokens.fetchMetadataToken();
      const lifetimeMs = Math.max(ttlSeconds * 1_000 - IMDS_TOKEN_REFRESH_MARGIN_MS, (ttlSeconds * 1_000) / 2);
      token = { value, refreshAt: clock.now() + lifetimeMs };
      return value;
    } catch (err) {
      throw new ImdsError(`IMDS token request failed: ${(err as Error).message}`, imdsStatus(err), { cause: err });
    } finally {
      pending = null;
    }
  }

  /** The cached token, or one fetch shared by every caller waiting for a new one. */
  function currentToken(signal?: AbortSignal): Promise<string> {
    if (token !== null && clock.now() < token.refreshAt) return Promise.resolve(token.value);
    pending ??= fetchToken();
    return raceSignal(pending, signal);
  }

  return {
    get tokenFetches() {
      return tokenFetches;
    },
    async get(path: string, signal?: AbortSignal): Promise<string | null> {
      // The SDK joins the endpoint's path ('/') and ours: no leading slash, or it sends '//latest/…'.
      const relative = path.replace(/^\/+/, '');
      for (let attempt = 1; ; attempt++) {
        const value = await currentToken(signal);
        const { reader } = await raceSignal(sdkServices(), signal);
        try {
          const body = await raceSignal(reader.request(relative, { headers: { 'x-aws-ec2-metadata-token': value } }), signal);
          if (body.length > IMDS_MAX_BODY_CHARS) throw new ImdsError(`IMDS body of ${path} too large (${body.length} chars)`, 200);
          return body;
        } catch (err) {
          if (signal?.aborted || err instanceof ImdsError) throw err;
          const status = imdsStatus(err);
          if (status === 404) return null;
          if (status === 401) token = null;
          if (status === 401 && attempt === 1) continue;
          throw new ImdsError(`IMDS GET ${path} failed: ${(err as Error).message}`, status, { cause: err });
        }
      }
    },
  };
}

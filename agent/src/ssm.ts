import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SynktiError } from '@synkti/interface';
import { parseSwarmKey } from '@synkti/mesh';

export class SwarmKeySsmError extends SynktiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SWARM_KEY_SSM', message, options);
  }
}

export interface SsmSwarmKeyOptions {
  /** Name (or ARN) of a SecureString parameter holding the swarm key file's text. */
  parameter: string;
  /** Where the key is written (mode 0600): the agent's swarmKeyFile. */
  path: string;
  /** Region; default: AWS_REGION / the SDK's chain, else the region of the ARN. */
  region?: string | undefined;
  /** Endpoint override (tests, VPC endpoints). */
  endpoint?: string | undefined;
  /** Static credentials (tests); default: the SDK's chain (the instance profile on EC2). */
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
}

/**
 * Fetches the swarm key from SSM Parameter Store (GetParameter with decryption) and writes it to
 * `path` with mode 0600, atomically. The text is checked to be a swarm key before it is written;
 * any failure is a SwarmKeySsmError naming the parameter (the agent does not start).
 */
export async function fetchSwarmKeyFromSsm(options: SsmSwarmKeyOptions): Promise<void> {
  const { parameter, path } = options;
  const region = options.region ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? /^arn:aws[\w-]*:ssm:([^:]+):/.exec(parameter)?.[1];
  // Loaded only when a parameter is configured: most agents never need the SSM client.
  const { SSMClient, GetParameterCommand } = await import('@aws-sdk/client-ssm');
  const client = new SSMClient({
    ...(region !== undefined ? { region } : {}),
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
    maxAttempts: 5,
  });
  let text: string | undefined;
  try {
    const out = await client.send(new GetParameterCommand({ Name: parameter, WithDecryption: true }));
    text = out.Parameter?.Value;
  } catch (err) {
    const name = err instanceof Error ? err.name : 'Error';
    throw new SwarmKeySsmError(`cannot read the swarm key from SSM parameter ${parameter}: ${name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    client.destroy();
  }
  if (text === undefined || text === '') throw new SwarmKeySsmError(`SSM parameter ${parameter} has no value`);
  try {
    parseSwarmKey(text, `SSM parameter ${parameter}`);
  } catch (err) {
    throw new SwarmKeySsmError(`SSM parameter ${parameter} does not hold a swarm key (create one with \`synkti keygen\`)`, { cause: err });
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text.endsWith('\n') ? text : `${text}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

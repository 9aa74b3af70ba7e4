/**
 * The real @aws-sdk/client-ec2 pointed at a fake, for the fakes' own tests and for other
 * packages' tests that want EC2's raw answers rather than the provider's view of them.
 */
import { DescribeInstancesCommand, type DescribeInstancesCommandInput, EC2Client, type RunInstancesCommandInput } from '@aws-sdk/client-ec2';

// The SDK warns once per process that its 2027 releases need Node 22; tests run on Node 20.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

/** A client with the SDK's retries off (maxAttempts 1), so each call shows the fake's answer as sent. */
export function rawClient(fake: { url: string; region: string }): EC2Client {
  return new EC2Client({ region: fake.region, endpoint: fake.url, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
}

/** The AWS code and HTTP status a call failed with; throws when it succeeded. */
export async function faultOf(p: Promise<unknown>): Promise<{ code: string; status: number | undefined }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; $metadata?: { httpStatusCode?: number } };
    return { code: e.name, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

/** A one-instance RunInstances from a launch template into subnet-a, with `token`. */
export function runInput(token: string, over: Partial<RunInstancesCommandInput> = {}): RunInstancesCommandInput {
  return {
    LaunchTemplate: { LaunchTemplateId: 'lt-0123456789abcdef0', Version: '$Default' },
    MinCount: 1,
    MaxCount: 1,
    InstanceType: 'g5.xlarge',
    SubnetId: 'subnet-a',
    ClientToken: token,
    ...over,
  };
}

export async function describeIds(client: EC2Client, input: DescribeInstancesCommandInput = {}): Promise<string[]> {
  const out = await client.send(new DescribeInstancesCommand(input));
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!);
}

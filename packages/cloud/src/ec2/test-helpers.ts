import { type FakeEc2, type FakeEc2Options, startFakeEc2 } from '../testing/fake-ec2.js';
import type { Ec2ProviderInit } from './config.js';
import { type Ec2Provider, ec2Provider } from './provider.js';

// The SDK warns once per process that its 2027 releases need Node 22; tests run on Node 20.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

export const TEMPLATE_ID = 'lt-0123456789abcdef0';

/** A fake EC2 and providers pointed at it through the real @aws-sdk/client-ec2; close() stops them all. */
export async function ec2Harness(options: FakeEc2Options = {}): Promise<{
  fake: FakeEc2;
  provider: (extra?: Partial<Ec2ProviderInit>) => Ec2Provider;
  delays: number[];
  close: () => Promise<void>;
}> {
  const fake = await startFakeEc2(options);
  const providers: Ec2Provider[] = [];
  const delays: number[] = [];
  return {
    fake,
    delays,
    provider: (extra = {}) => {
      const p = ec2Provider(
        {
          region: fake.region,
          endpoint: fake.url,
          launchTemplate: { id: TEMPLATE_ID },
          requestTimeoutMs: 5_000,
          // Pacing has its own test; here it would only add waits to the recorded backoff delays.
          runInstancesPerSecond: 100,
          ...extra,
        },
        {
          credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
          rng: () => 0.5,
          sleep: async (ms) => {
            delays.push(ms);
          },
        },
      );
      providers.push(p);
      return p;
    },
    close: async () => {
      for (const p of providers) p.close();
      await fake.close();
    },
  };
}

import type { AgentProcess } from './agent-process.js';
import { FAST_TIMINGS } from './agent-process.js';
import type { TestFleet } from './fleet.js';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

export interface FakeEngineAgent {
  agent: AgentProcess;
  enginePort: number;
  engineUrl: string;
}

/** Starts an agent running the fake engine on a free port; `fakeArgs` are fake-vllm flags. */
export async function startEngineAgent(fleet: TestFleet, name: string, fakeArgs: string[] = [], extra: string[] = []): Promise<FakeEngineAgent> {
  const enginePort = await freePort();
  const agent = await fleet.startAgent(name, [
    ...FAST_TIMINGS,
    '--engine-runtime', 'fake',
    '--engine-port', String(enginePort),
    '--engine-capacity', '16',
    `--engine-args=${['--ttft-ms=2', '--tokens-per-s=2000', ...fakeArgs].join(',')}`,
    ...extra,
  ], fleet.agents.length === 0 ? [] : undefined);
  return { agent, enginePort, engineUrl: `http://127.0.0.1:${enginePort}` };
}

/** Waits until `observer` sees `count` healthy peers. */
export async function waitHealthy(observer: AgentProcess, count: number, timeoutMs = 30_000): Promise<void> {
  await waitFor(`${count} healthy peers`, async () => ((await observer.fleet()).peers.filter((p) => p.healthy).length >= count ? true : undefined), timeoutMs);
}

export async function engineState(engineUrl: string): Promise<{ running: number; waiting: number; cancelled: number; served: number }> {
  const res = await fetch(`${engineUrl}/_fake/state`, { signal: AbortSignal.timeout(2_000) });
  return (await res.json()) as { running: number; waiting: number; cancelled: number; served: number };
}

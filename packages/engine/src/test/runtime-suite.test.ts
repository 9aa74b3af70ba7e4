// One suite for the EngineRuntime interface, run against both runtimes: the process runtime
// spawning the fake engine, and the docker runtime through the stand-in docker.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { dockerRuntime } from '../docker-runtime.js';
import { processRuntime } from '../process-runtime.js';
import type { EngineRuntime } from '../runtime.js';
import { writeDockerStub } from './docker-stub.js';
import { alive, FAKE_ENGINE, fakeEngineArgv, freePort, killAll, MODEL } from './helpers.js';

const pids: number[] = [];
const dir = mkdtempSync(join(tmpdir(), 'synkti-runtime-suite-'));
const docker = writeDockerStub(dir, FAKE_ENGINE);
after(() => {
  killAll(pids);
  rmSync(dir, { recursive: true, force: true });
});

const cases: Array<[string, (port: number) => EngineRuntime]> = [
  ['process', (port) => processRuntime({ argv: fakeEngineArgv(port, [], 0) })],
  [
    'docker',
    (port) =>
      dockerRuntime({
        dockerPath: docker,
        pullPolicy: 'always',
        image: 'vllm/vllm-openai:latest',
        containerName: `synkti-engine-${port}`,
        hostPort: port,
        hfCacheDir: '/tmp/hf',
        model: MODEL,
        servedModelName: MODEL,
        passEnv: ['HF_TOKEN'],
        gpus: 'all',
        rm: true,
        dockerArgs: [],
        engineArgs: [],
      }),
  ],
];

async function waitHealthy(port: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.status === 200, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('engine never healthy');
}

for (const [name, make] of cases) {
  describe(`EngineRuntime: ${name}`, () => {
    it('prepares, launches a running engine and stops it (stop is idempotent)', async () => {
      const port = await freePort();
      const rt = make(port);
      const signal = new AbortController().signal;
      await rt.prepare(signal);
      const proc = await rt.launch(signal);
      assert.ok(proc.pid !== undefined);
      pids.push(proc.pid);
      await waitHealthy(port);
      const [a, b] = await Promise.all([proc.stop(2_000), proc.stop(2_000)]);
      assert.deepEqual(a, b);
      assert.deepEqual(await proc.exited, a);
      assert.ok(!alive(proc.pid));
      assert.deepEqual(await proc.stop(2_000), a, 'stop after exit resolves with the same exit');
    });

    it('reports an exit the engine did not ask for', async () => {
      const port = await freePort();
      const rt = make(port);
      const proc = await rt.launch(new AbortController().signal);
      pids.push(proc.pid!);
      await waitHealthy(port);
      await fetch(`http://127.0.0.1:${port}/_fake/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ crash: true }),
      }).catch(() => {});
      const exit = await proc.exited;
      assert.ok(exit.code !== 0 || exit.signal !== null, `a crash is not a clean exit: ${JSON.stringify(exit)}`);
    });

    it('refuses to launch when already aborted', async () => {
      const rt = make(await freePort());
      await assert.rejects(rt.launch(AbortSignal.abort()));
    });
  });
}

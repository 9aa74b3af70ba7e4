// The docker runtime end to end through a stand-in `docker` executable put first on PATH: it
// records every call and runs the fake engine in place of the vLLM container. We assert the
// exact command lines: pull, ps (stale lookup), rm, run, stop.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as engineDefaults from '../constants.js';
import { type EngineSupervisor, engineSupervisor } from '../supervisor.js';
import { writeDockerStub } from './docker-stub.js';
import { alive, FAKE_ENGINE, FAST, freePort, MODEL, killAll, watch } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'synkti-docker-stub-'));
const pids: number[] = [];
let sup: EngineSupervisor | undefined;
const savedPath = process.env.PATH;
const savedToken = process.env.HF_TOKEN;

before(() => {
  writeDockerStub(dir, FAKE_ENGINE);
  process.env.PATH = `${dir}:${process.env.PATH ?? ''}`;
  process.env.HF_TOKEN = 'hf_secret_for_test';
});

after(async () => {
  await sup?.stop();
  // Every container the stand-in still runs (a failed test leaves its own), and its engine.
  for (const f of readdirSync(dir).filter((n) => /^(run|engine)-.*\.pid$/.test(n))) {
    try {
      pids.push(Number(readFileSync(join(dir, f), 'utf8')));
    } catch {
      // not running
    }
  }
  killAll(pids);
  process.env.PATH = savedPath;
  if (savedToken === undefined) delete process.env.HF_TOKEN;
  else process.env.HF_TOKEN = savedToken;
  rmSync(dir, { recursive: true, force: true });
});

const calls = (): Array<{ args: string[]; hfToken: string | null }> =>
  readFileSync(join(dir, 'calls.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('engine supervisor with the docker runtime (stand-in docker)', () => {
  it('pulls, removes the stale container, runs vLLM with the exact command line, and stops it', async () => {
    const port = await freePort();
    writeFileSync(join(dir, 'stale-synkti-engine-test'), ''); // left over from an earlier run
    sup = engineSupervisor({
      config: {
        model: MODEL,
        servedModelName: MODEL,
        port,
        ...FAST,
        stopGraceMs: 3_000,
        capacity: 8,
        engineArgs: ['--shutdown-timeout', '20'],
        runtime: {
          kind: 'docker',
          pullPolicy: 'always',
          image: 'vllm/vllm-openai:v0.10.2',
          containerName: 'synkti-engine-test',
          hfCacheDir: '/data/hf',
        },
      },
    });
    const w = watch(sup);
    await sup.start();
    await w.to('warm');
    assert.ok(sup.snapshot().lastColdStart !== null);

    const pid = Number(readFileSync(join(dir, 'run-synkti-engine-test.pid'), 'utf8'));
    pids.push(pid);
    await sup.stop();
    assert.equal(sup.state(), 'stopped');
    assert.ok(!alive(pid), 'the stand-in container is gone');

    const seen = calls();
    // The run carries a label naming its command line (for adoption by a later agent); checked apart.
    const runCall = seen.find((c) => c.args[0] === 'run')!;
    const labelAt = runCall.args.indexOf('--label');
    assert.match(runCall.args[labelAt + 1] ?? '', /^synkti\.spec=[0-9a-f]{16}$/);
    runCall.args.splice(labelAt, 2);
    assert.deepEqual(
      seen.map((c) => c.args),
      [
        ['pull', 'vllm/vllm-openai:v0.10.2'],
        ['inspect', '--format', '{{.State.Running}} {{index .Config.Labels "synkti.spec"}}', 'synkti-engine-test'],
        ['ps', '-a', '--filter', 'name=^/synkti-engine-test$', '--format', '{{.ID}}'],
        ['rm', '-f', 'synkti-engine-test'],
        [
          'run',
          '--rm',
          '--name',
          'synkti-engine-test',
          '--gpus',
          'all',
          '--ipc=host',
          '-p',
          `127.0.0.1:${port}:8000`,
          '-v',
          '/data/hf:/root/.cache/huggingface',
          '-e',
          'HF_TOKEN',
          'vllm/vllm-openai:v0.10.2',
          '--model',
          MODEL,
          '--served-model-name',
          MODEL,
          '--port',
          '8000',
          '--shutdown-timeout',
          '20',
          '--max-num-seqs',
          '8',
        ],
        // vLLM's own --shutdown-timeout (20 s) plus a margin beats the configured 3 s grace.
        ['stop', '-t', '30', 'synkti-engine-test'],
      ],
    );
    // the token reaches docker through the environment, never through argv
    const run = runCall;
    assert.equal(run.hfToken, 'hf_secret_for_test');
    assert.ok(!run.args.some((a) => a.includes('hf_secret_for_test')));
  });

  it('restarts after the container dies, removing nothing when no stale container exists, pulling once', async () => {
    const port = await freePort();
    writeFileSync(join(dir, 'calls.jsonl'), '');
    sup = engineSupervisor({
      config: { model: MODEL, port, ...FAST, runtime: { kind: 'docker', containerName: 'synkti-engine-test', gpus: null, rm: false } },
    });
    const w = watch(sup);
    await sup.start();
    await w.to('warm');
    const pid = Number(readFileSync(join(dir, 'run-synkti-engine-test.pid'), 'utf8'));
    process.kill(pid, 'SIGKILL'); // the container dies under us
    const failed = await w.to('failed');
    await w.to('warm', 20_000, w.seen.indexOf(failed));
    await sup.stop();
    const verbs = calls().map((c) => c.args[0]);
    assert.deepEqual(verbs, ['image', 'pull', 'inspect', 'ps', 'run', 'inspect', 'ps', 'run', 'stop'], 'the image was missing: pulled once');
    assert.deepEqual(calls()[0]!.args, ['image', 'inspect', '--format', '{{.Id}}', engineDefaults.DEFAULT_DOCKER_IMAGE]);
    const run = calls()[4]!.args;
    assert.ok(!run.includes('--rm') && !run.includes('--gpus'));
    assert.match(engineDefaults.DEFAULT_DOCKER_IMAGE, /^vllm\/vllm-openai:v\d+\.\d+\.\d+$/, 'the default image is a pinned release');
    assert.ok(run.includes(engineDefaults.DEFAULT_DOCKER_IMAGE));
    assert.deepEqual(run.slice(-2), ['--max-num-seqs', String(engineDefaults.DEFAULT_CAPACITY)], 'the engine runs as many sequences as the agent gossips');
  });

  it('pull policy: if-missing never pulls an image on disk; always survives a failed pull of an image on disk, and fails without one; never only runs', async () => {
    const cases = [
      { policy: 'if-missing', onDisk: true, pullFails: false, verbs: ['image', 'inspect', 'ps', 'run', 'stop'] },
      { policy: 'always', onDisk: true, pullFails: true, verbs: ['pull', 'image', 'inspect', 'ps', 'run', 'stop'] },
      { policy: 'never', onDisk: false, pullFails: false, verbs: ['inspect', 'ps', 'run', 'stop'] },
      { policy: 'always', onDisk: false, pullFails: true, verbs: ['pull', 'image'] },
    ] as const;
    for (const c of cases) {
      const image = `example/vllm:${c.policy}-${c.onDisk}`;
      const imageFile = join(dir, `image-${image.replace(/[^A-Za-z0-9.-]/g, '_')}`);
      if (c.onDisk) writeFileSync(imageFile, '');
      else rmSync(imageFile, { force: true });
      if (c.pullFails) writeFileSync(join(dir, 'pull-fails'), '');
      writeFileSync(join(dir, 'calls.jsonl'), '');
      const port = await freePort();
      sup = engineSupervisor({ config: { model: MODEL, port, ...FAST, runtime: { kind: 'docker', image, pullPolicy: c.policy, containerName: 'synkti-engine-pull', gpus: null, rm: false } } });
      const w = watch(sup);
      await sup.start();
      const end = await w.next((t) => t.to === 'warm' || t.to === 'failed', 20_000);
      await sup.stop();
      rmSync(join(dir, 'pull-fails'), { force: true });
      const label = `${c.policy}, image ${c.onDisk ? 'on disk' : 'absent'}${c.pullFails ? ', pull fails' : ''}`;
      assert.equal(end.to, c.onDisk || !c.pullFails ? 'warm' : 'failed', label);
      if (end.to === 'failed') assert.equal(end.code, 'DOCKER_FAILED', label);
      assert.deepEqual(calls().map((x) => x.args[0]), c.verbs, label);
    }
  });

  it('adopts a healthy container a previous agent left running with the same command line: no rm, no run, no cold start', async () => {
    const port = await freePort();
    const config = { model: MODEL, port, ...FAST, runtime: { kind: 'docker' as const, containerName: 'synkti-engine-adopt', gpus: null, rm: false, pull: false } };
    const predecessor = await leaveContainer(config);
    writeFileSync(join(dir, 'calls.jsonl'), '');
    sup = engineSupervisor({ config });
    const w = watch(sup);
    await sup.start();
    await w.to('warm');
    await waitUntil(() => calls().length >= 2, 5_000);
    assert.deepEqual(calls().map((c) => c.args[0]), ['inspect', 'wait'], 'adopted: inspected, then followed with docker wait');
    assert.ok(alive(predecessor), 'the same container runs');
    await sup.stop();
    assert.ok(!alive(predecessor), 'stopping the agent stops the adopted container');
    assert.deepEqual(calls().map((c) => c.args[0]), ['inspect', 'wait', 'stop']);
  });

  it('replaces a container started with other arguments, and one that is not healthy', async () => {
    for (const how of ['other-args', 'hung'] as const) {
      const port = await freePort();
      const config = { model: MODEL, port, ...FAST, runtime: { kind: 'docker' as const, containerName: `synkti-engine-${how}`, gpus: null, rm: false, pull: false } };
      const predecessor = await leaveContainer(how === 'other-args' ? { ...config, engineArgs: ['--max-num-seqs', '4'] } : config);
      if (how === 'hung') await fetch(`http://127.0.0.1:${port}/_fake/faults`, { method: 'POST', body: JSON.stringify({ hang: true }) });
      writeFileSync(join(dir, 'calls.jsonl'), '');
      sup = engineSupervisor({ config });
      const w = watch(sup);
      await sup.start();
      await w.to('warm', 20_000);
      assert.ok(!alive(predecessor), `${how}: the predecessor container is gone`);
      assert.deepEqual(calls().map((c) => c.args[0]), ['inspect', 'ps', 'rm', 'run'], `${how}: replaced, never two engines on the port`);
      await sup.stop();
    }
  });
});

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/**
 * Starts a container the way an agent that has since died would have: a supervisor in a child
 * process starts it, then that process is SIGKILLed; the container (the stand-in's `run`) lives on.
 */
async function leaveContainer(config: Parameters<typeof engineSupervisor>[0]['config']): Promise<number> {
  const script = join(dir, `predecessor-${Date.now()}.mjs`);
  const supervisorModule = new URL('../supervisor.js', import.meta.url).href;
  writeFileSync(script, `import { engineSupervisor } from ${JSON.stringify(supervisorModule)};
const sup = engineSupervisor({ config: ${JSON.stringify(config)} });
sup.onTransition((t) => { if (t.to === 'warm') process.stdout.write('warm\\n'); });
await sup.start();
setInterval(() => {}, 1000);
`);
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the predecessor never got warm')), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('warm')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const name = (config.runtime as { containerName: string }).containerName;
  const pid = Number(readFileSync(join(dir, `run-${name}.pid`), 'utf8'));
  pids.push(pid);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  return pid;
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasCode } from '@synkti/interface';
import { parseEngineConfig } from './config.js';
import { dockerFindArgs, dockerInspectArgs, dockerRunArgs, dockerStopArgs, dockerWaitArgs, specLabelOf } from './docker-args.js';
import { ENGINE_ERROR_CODES } from './errors.js';

describe('docker command lines', () => {
  it('builds the exact docker run argv for vllm/vllm-openai, labelled with a digest of itself', () => {
    const spec = {
      image: 'vllm/vllm-openai:v0.10.2',
      containerName: 'synkti-engine-8001',
      hostPort: 8001,
      hfCacheDir: '/var/lib/synkti/hf',
      model: 'Qwen/Qwen3-0.6B',
      servedModelName: 'qwen3',
      passEnv: ['HF_TOKEN'],
      gpus: 'all',
      rm: true,
      dockerArgs: [],
      engineArgs: ['--max-num-seqs', '64'],
    };
    const args = dockerRunArgs(spec);
    const label = specLabelOf(spec);
    assert.match(label, /^[0-9a-f]{16}$/);
    assert.notEqual(specLabelOf({ ...spec, engineArgs: ['--max-num-seqs', '32'] }), label, 'other arguments, another label');
    assert.equal(
      args.join(' '),
      `run --rm --name synkti-engine-8001 --label synkti.spec=${label} --gpus all --ipc=host -p 127.0.0.1:8001:8000 ` +
        '-v /var/lib/synkti/hf:/root/.cache/huggingface -e HF_TOKEN vllm/vllm-openai:v0.10.2 ' +
        '--model Qwen/Qwen3-0.6B --served-model-name qwen3 --port 8000 --max-num-seqs 64',
    );
  });

  it('finds a stale container by exact name and stops with whole seconds', () => {
    assert.deepEqual(dockerFindArgs('synkti-engine-8001'), ['ps', '-a', '--filter', 'name=^/synkti-engine-8001$', '--format', '{{.ID}}']);
    assert.deepEqual(dockerStopArgs('n', 10_000), ['stop', '-t', '10', 'n']);
    assert.deepEqual(dockerStopArgs('n', 1_500), ['stop', '-t', '2', 'n']);
    assert.deepEqual(dockerInspectArgs('n'), ['inspect', '--format', '{{.State.Running}} {{index .Config.Labels "synkti.spec"}}', 'n']);
    assert.deepEqual(dockerWaitArgs('n'), ['wait', 'n']);
  });
});

describe('engine config', () => {
  it('fills defaults from constants and derives names', () => {
    const c = parseEngineConfig({ model: 'm', port: 8001, runtime: { kind: 'docker' } });
    assert.equal(c.servedModelName, 'm');
    assert.equal(c.startupBudgetMs, 20 * 60_000);
    assert.equal(c.healthIntervalMs, 1_000);
    assert.equal(c.probeTimeoutMs, 5_000);
    assert.equal(c.unhealthyThreshold, 3);
    assert.deepEqual(c.restart, {
      initialBackoffMs: 1_000,
      maxBackoffMs: 60_000,
      jitterRatio: 0.2,
      crashLoopFailures: 5,
      crashLoopWindowMs: 60_000,
      stableAfterMs: 60_000,
    });
    assert.ok(c.runtime.kind === 'docker');
    assert.equal(c.runtime.containerName, 'synkti-engine-8001');
    assert.equal(c.runtime.image, 'vllm/vllm-openai:v0.12.0', 'a pinned release, never latest');
    assert.equal(c.runtime.pullPolicy, 'if-missing');
    assert.equal(c.stallTimeoutMs, 60_000);
    assert.deepEqual(c.runtime.passEnv, ['HF_TOKEN']);
    assert.match(c.runtime.hfCacheDir, /\.cache\/huggingface$/);
  });

  it('rejects a bad config with ENGINE_BAD_CONFIG', () => {
    assert.throws(
      () => parseEngineConfig({ model: '', port: 0, runtime: { kind: 'process', argv: [] } }),
      (err: unknown) => hasCode(err, ENGINE_ERROR_CODES.BAD_CONFIG),
    );
  });
});

// llamacpp-metrics.txt was captured on this machine from llama-server (llama.cpp v0.5.0-dev as
// bundled by node-llama-cpp 3.22.1, `--parallel 4 --metrics`) while six requests ran: four in
// slots, two deferred.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { hasCode } from '@synkti/interface';
import { parseEngineConfig } from './config.js';
import { LLAMA_CONTEXT_PER_SLOT_TOKENS } from './constants.js';
import { dockerRunArgs } from './docker-args.js';
import { LLAMA_CPP_LOAD_METRICS, llamaServerArgv, loadMetricsOf, VLLM_LOAD_METRICS } from './engine-kind.js';
import { ENGINE_ERROR_CODES } from './errors.js';
import { loadFromMetricsText } from './load.js';

const fixture = (name: string): string => readFileSync(new URL(`../src/fixtures/${name}`, import.meta.url), 'utf8');

describe('engine kinds', () => {
  it('reads llama.cpp load from its own metric names: busy slots running, deferred tasks waiting, no KV usage', () => {
    assert.deepEqual(loadFromMetricsText(fixture('llamacpp-metrics.txt'), LLAMA_CPP_LOAD_METRICS), { running: 4, waiting: 2, kvCacheUsage: null });
    // Under vLLM's names the same body says nothing: the kind must choose the names.
    assert.deepEqual(loadFromMetricsText(fixture('llamacpp-metrics.txt')), { running: null, waiting: null, kvCacheUsage: null });
    assert.deepEqual(loadFromMetricsText('llamacpp:requests_processing 1\nllamacpp:kv_cache_usage_ratio 0.25\n', LLAMA_CPP_LOAD_METRICS), { running: 1, waiting: null, kvCacheUsage: 0.25 });
    assert.equal(loadMetricsOf('vllm'), VLLM_LOAD_METRICS);
    assert.equal(loadMetricsOf('llama.cpp'), LLAMA_CPP_LOAD_METRICS);
  });

  it('builds the llama-server command line: alias, loopback port, slots = capacity, context sized per slot, metrics on, extra flags last', () => {
    const argv = llamaServerArgv({ command: ['taskset', '-c', '0', '/opt/llama-server'], model: '/m/tiny.gguf', servedModelName: 'tiny', port: 8123, capacity: 3, contextPerSlot: 1_000, engineArgs: ['--threads', '1'] });
    assert.deepEqual(argv, ['taskset', '-c', '0', '/opt/llama-server', '--model', '/m/tiny.gguf', '--alias', 'tiny', '--host', '127.0.0.1', '--port', '8123', '--parallel', '3', '--ctx-size', '3000', '--metrics', '--threads', '1']);
  });

  it('config: a llama.cpp process engine gets its argv built, 4 slots and 4,096 tokens per slot by default', () => {
    const c = parseEngineConfig({ kind: 'llama.cpp', model: '/m/tiny.gguf', servedModelName: 'tiny', port: 8123, runtime: { kind: 'process', stateDir: '/tmp/x' } });
    assert.equal(c.capacity, 4);
    assert.equal(c.runtime.kind, 'process');
    assert.deepEqual(c.runtime.kind === 'process' ? c.runtime.argv.slice(0, 1) : null, ['llama-server']);
    assert.ok(c.runtime.kind === 'process' && c.runtime.argv.join(' ').includes(`--parallel 4 --ctx-size ${4 * LLAMA_CONTEXT_PER_SLOT_TOKENS} --metrics`));
    // An explicit argv wins; vLLM keeps its default capacity.
    const explicit = parseEngineConfig({ kind: 'llama.cpp', model: 'm', port: 1, runtime: { kind: 'process', argv: ['my-server'] } });
    assert.deepEqual(explicit.runtime.kind === 'process' ? explicit.runtime.argv : null, ['my-server']);
    assert.equal(parseEngineConfig({ model: 'm', port: 1, runtime: { kind: 'process', argv: ['x'] } }).capacity, 256);
  });

  it('config: vLLM under the process runtime without argv runs `vllm serve MODEL` with the capacity as --max-num-seqs; a vLLM argv gets it added; another program runs as given', () => {
    const built = parseEngineConfig({ model: 'Qwen/Qwen3-8B', servedModelName: 'qwen', port: 8001, capacity: 64, engineArgs: ['--max-model-len', '16384'], runtime: { kind: 'process' } });
    assert.deepEqual(built.runtime.kind === 'process' ? built.runtime.argv : null, ['vllm', 'serve', 'Qwen/Qwen3-8B', '--served-model-name', 'qwen', '--host', '127.0.0.1', '--port', '8001', '--max-model-len', '16384', '--max-num-seqs', '64']);
    const venv = parseEngineConfig({ model: 'm', port: 8001, runtime: { kind: 'process', command: ['/opt/venv/bin/vllm', 'serve'] } });
    assert.deepEqual(venv.runtime.kind === 'process' ? venv.runtime.argv.slice(0, 3) : null, ['/opt/venv/bin/vllm', 'serve', 'm']);
    const given = parseEngineConfig({ model: 'm', port: 8001, capacity: 32, runtime: { kind: 'process', argv: ['/opt/venv/bin/vllm', 'serve', 'm', '--port', '8001'] } });
    assert.deepEqual(given.runtime.kind === 'process' ? given.runtime.argv.slice(-2) : null, ['--max-num-seqs', '32'], 'the engine runs what the agent gossips');
    const module = parseEngineConfig({ model: 'm', port: 8001, runtime: { kind: 'process', argv: ['python3', '-m', 'vllm.entrypoints.openai.api_server', '--model', 'm'] } });
    assert.deepEqual(module.runtime.kind === 'process' ? module.runtime.argv.slice(-2) : null, ['--max-num-seqs', '256']);
    const other = parseEngineConfig({ model: 'm', port: 8001, runtime: { kind: 'process', argv: ['my-openai-server', '--port', '8001'] } });
    assert.deepEqual(other.runtime.kind === 'process' ? other.runtime.argv : null, ['my-openai-server', '--port', '8001']);
  });

  it("config: llama.cpp in its server image: the GGUF's directory mounted read-only, llama-server's flags on all interfaces of the container, no vLLM flags; the image must be named", () => {
    const c = parseEngineConfig({ kind: 'llama.cpp', model: '/data/models/tiny.gguf', servedModelName: 'tiny', port: 8123, capacity: 8, contextPerSlot: 2_048, engineArgs: ['-ngl', '999'], runtime: { kind: 'docker', image: 'ghcr.io/ggml-org/llama.cpp:server-cuda-b6500', containerName: 'e' } });
    assert.equal(c.capacity, 8);
    assert.deepEqual(c.engineArgs, ['-ngl', '999'], 'no --max-num-seqs for llama.cpp');
    assert.ok(c.runtime.kind === 'docker');
    const argv = dockerRunArgs({ ...c.runtime, hostPort: c.port, model: c.model, servedModelName: c.servedModelName, engineArgs: c.engineArgs, llamaCpp: { capacity: c.capacity, contextPerSlot: c.contextPerSlot } });
    const label = argv.indexOf('--label');
    argv.splice(label, 2);
    assert.deepEqual(argv, [
      'run', '--rm', '--name', 'e', '--gpus', 'all', '--ipc=host', '--no-healthcheck', '-p', '127.0.0.1:8123:8000', '-v', '/data/models:/models:ro', '-e', 'HF_TOKEN',
      'ghcr.io/ggml-org/llama.cpp:server-cuda-b6500',
      '--model', '/models/tiny.gguf', '--alias', 'tiny', '--host', '0.0.0.0', '--port', '8000', '--parallel', '8', '--ctx-size', '16384', '--metrics', '-ngl', '999',
    ]);
    assert.throws(() => parseEngineConfig({ kind: 'llama.cpp', model: 'models/tiny.gguf', port: 1, runtime: { kind: 'docker', image: 'i' } }), (err) => hasCode(err, ENGINE_ERROR_CODES.BAD_CONFIG) && /absolute path/.test((err as Error).message));
    assert.throws(() => parseEngineConfig({ kind: 'llama.cpp', model: 'm', port: 1, runtime: { kind: 'docker' } }), (err) => hasCode(err, ENGINE_ERROR_CODES.BAD_CONFIG) && /runtime\.image: required for a llama\.cpp engine/.test((err as Error).message));
    assert.throws(() => parseEngineConfig({ kind: 'sglang', model: 'm', port: 1, runtime: { kind: 'process', argv: ['x'] } }), (err) => hasCode(err, ENGINE_ERROR_CODES.BAD_CONFIG));
  });
});

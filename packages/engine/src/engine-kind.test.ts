// llamacpp-metrics.txt was captured on this machine from llama-server (llama.cpp v0.5.0-dev as
// bundled by node-llama-cpp 3.22.1, `--parallel 4 --metrics`) while six requests ran: four in
// slots, two deferred.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { hasCode } from '@synkti/interface';
import { parseEngineConfig } from './config.js';
import { LLAMA_CONTEXT_PER_SLOT_TOKENS } from './constants.js';
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

  it('config: llama.cpp under docker, and vLLM under the process runtime without argv, are refused with a code', () => {
    assert.throws(() => parseEngineConfig({ kind: 'llama.cpp', model: 'm', port: 1, runtime: { kind: 'docker' } }), (err) => hasCode(err, ENGINE_ERROR_CODES.BAD_CONFIG) && /process runtime/.test((err as Error).message));
    assert.throws(() => parseEngineConfig({ model: 'm', port: 1, runtime: { kind: 'process' } }), (err) => hasCode(err, ENGINE_ERROR_CODES.BAD_CONFIG) && /runtime\.argv/.test((err as Error).message));
    assert.throws(() => parseEngineConfig({ kind: 'sglang', model: 'm', port: 1, runtime: { kind: 'process', argv: ['x'] } }), (err) => hasCode(err, ENGINE_ERROR_CODES.BAD_CONFIG));
  });
});

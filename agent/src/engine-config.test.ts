import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseEngineConfig } from '@synkti/engine';
import { loadConfig } from './config/index.js';
import { engineConfigFrom } from './engine-config.js';

describe('engine config from agent keys', () => {
  it('engineKind llama.cpp: engineCommand is the program, engineModel the GGUF, the agent builds the rest of the command line', async () => {
    const config = await loadConfig({ env: {}, flags: { engineRuntime: 'process', engineKind: 'llama.cpp', engineCommand: '/opt/llama/llama-server', engineModel: '/m/tiny.gguf', engineServedModelName: 'tiny', enginePort: '9001', engineContextPerSlot: '1024', engineArgs: '--threads,1', stateDir: '/tmp/s' } });
    const engine = parseEngineConfig(engineConfigFrom(config));
    assert.equal(engine.kind, 'llama.cpp');
    assert.equal(engine.capacity, 4, "llama.cpp's slot count, not vLLM's 256");
    assert.deepEqual(engine.runtime.kind === 'process' ? engine.runtime.argv : null, ['/opt/llama/llama-server', '--model', '/m/tiny.gguf', '--alias', 'tiny', '--host', '127.0.0.1', '--port', '9001', '--parallel', '4', '--ctx-size', '4096', '--metrics', '--threads', '1']);
  });

  it('engineKind llama.cpp needs a model, and under docker a named image; vLLM keeps capacity 256', async () => {
    await assert.rejects(async () => engineConfigFrom(await loadConfig({ env: {}, flags: { engineKind: 'llama.cpp', engineModel: '/m.gguf' } })), /engineImage .* required when engineKind is llama\.cpp under docker/);
    await assert.rejects(async () => engineConfigFrom(await loadConfig({ env: {}, flags: { engineKind: 'llama.cpp', engineRuntime: 'fake' } })), /process or docker, not fake/);
    await assert.rejects(async () => engineConfigFrom(await loadConfig({ env: {}, flags: { engineKind: 'llama.cpp', engineRuntime: 'process' } })), /engineModel .* GGUF/);
    const inImage = parseEngineConfig(engineConfigFrom(await loadConfig({ env: {}, flags: { engineKind: 'llama.cpp', engineModel: '/m/tiny.gguf', engineImage: 'ghcr.io/ggml-org/llama.cpp:server-cuda-b6500' } })));
    assert.ok(inImage.runtime.kind === 'docker' && inImage.runtime.image === 'ghcr.io/ggml-org/llama.cpp:server-cuda-b6500');
    const cpu = parseEngineConfig(engineConfigFrom(await loadConfig({ env: {}, flags: { engineKind: 'llama.cpp', engineModel: '/m/tiny.gguf', engineImage: 'ghcr.io/ggml-org/llama.cpp:server', engineGpus: 'none' } })));
    assert.ok(cpu.runtime.kind === 'docker' && cpu.runtime.gpus === null, 'engineGpus none: no --gpus flag');
    assert.equal(inImage.capacity, 4);
    const vllm = parseEngineConfig(engineConfigFrom(await loadConfig({ env: {}, flags: { engineModel: 'Qwen/Qwen3-8B' } })));
    assert.equal(vllm.kind, 'vllm');
    assert.equal(vllm.capacity, 256);
  });

  it('vLLM under the process runtime without engineCommand: the agent runs `vllm serve` with the model, port and capacity', async () => {
    const config = await loadConfig({ env: {}, flags: { engineRuntime: 'process', engineModel: 'Qwen/Qwen3-8B', enginePort: '9002', engineCapacity: '128', engineArgs: '--max-model-len=16384', stateDir: '/tmp/s' } });
    const engine = parseEngineConfig(engineConfigFrom(config));
    assert.deepEqual(engine.runtime.kind === 'process' ? engine.runtime.argv : null, ['vllm', 'serve', 'Qwen/Qwen3-8B', '--served-model-name', 'Qwen/Qwen3-8B', '--host', '127.0.0.1', '--port', '9002', '--max-model-len=16384', '--max-num-seqs', '128']);
  });
});

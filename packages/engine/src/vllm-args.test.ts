import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseEngineConfig } from './config.js';
import { DEFAULT_CAPACITY, DEFAULT_DOCKER_IMAGE, SHUTDOWN_GRACE_MARGIN_MS, STOP_GRACE_MS } from './constants.js';
import { flagValue, isVllmCommandLine, stopGraceFor, withMaxNumSeqs } from './vllm-args.js';

const docker = { kind: 'docker' as const };

describe('vLLM command-line facts', () => {
  it('reads flags in both spellings, the last one winning', () => {
    assert.equal(flagValue(['--a', '1', '--max-num-seqs', '8'], '--max-num-seqs'), '8');
    assert.equal(flagValue(['--max-num-seqs=8', '--max-num-seqs', '16'], '--max-num-seqs'), '16');
    assert.equal(flagValue(['--max-num-seqs-x', '8'], '--max-num-seqs'), undefined);
    assert.equal(flagValue(['--max-num-seqs'], '--max-num-seqs'), undefined, 'a flag with no value is absent');
    assert.equal(flagValue(['--max_num_seqs', '12'], '--max-num-seqs'), '12', "vLLM's parser takes underscores");
    assert.equal(flagValue(['--max_num_seqs=14'], '--max-num-seqs'), '14');
  });

  it('adds --max-num-seqs only when the arguments do not set it', () => {
    assert.deepEqual(withMaxNumSeqs(['--max-model-len', '8192'], 64), ['--max-model-len', '8192', '--max-num-seqs', '64']);
    assert.deepEqual(withMaxNumSeqs(['--max-num-seqs=32'], 64), ['--max-num-seqs=32']);
    assert.deepEqual(withMaxNumSeqs(['--config', 'serve.yaml'], 64), ['--config', 'serve.yaml'], 'a config file may set it: never overridden');
    assert.ok(isVllmCommandLine(['conda', 'run', '-n', 'vllm', 'vllm', 'serve', 'm']), 'a wrapper whose environment is called vllm');
    assert.ok(isVllmCommandLine(['python3', '-m', 'vllm.entrypoints.cli.main', 'serve', 'm']));
    assert.ok(!isVllmCommandLine(['my-server', '--vllm-compat', 'serve']));
  });

  it("takes the stop grace from vLLM's own --shutdown-timeout plus a margin, never less than configured", () => {
    assert.equal(stopGraceFor([], 10_000), 10_000);
    assert.equal(stopGraceFor(['--shutdown-timeout', '60'], 10_000), 60_000 + SHUTDOWN_GRACE_MARGIN_MS);
    assert.equal(stopGraceFor(['--shutdown-timeout=1'], 30_000), 30_000);
    assert.equal(stopGraceFor(['--shutdown-timeout', 'soon'], 10_000), 10_000);
  });
});

describe('engine config: capacity and the docker command line agree', () => {
  it('passes the gossiped capacity as --max-num-seqs, pins the image and pulls only when missing by default', () => {
    const c = parseEngineConfig({ model: 'm', port: 8000, runtime: docker });
    assert.equal(c.capacity, DEFAULT_CAPACITY);
    assert.deepEqual(c.engineArgs, ['--max-num-seqs', String(DEFAULT_CAPACITY)]);
    assert.ok(c.runtime.kind === 'docker' && c.runtime.image === DEFAULT_DOCKER_IMAGE && c.runtime.pullPolicy === 'if-missing');
    assert.equal(c.stopGraceMs, STOP_GRACE_MS);
    const old = parseEngineConfig({ model: 'm', port: 8000, runtime: { ...docker, pull: false } });
    assert.ok(old.runtime.kind === 'docker' && old.runtime.pullPolicy === 'never', 'pull: false still means never');
  });

  it('takes capacity from --max-num-seqs in the arguments, and refuses a configured capacity that disagrees', () => {
    assert.equal(parseEngineConfig({ model: 'm', port: 8000, engineArgs: ['--max-num-seqs', '1024'], runtime: docker }).capacity, 1024);
    assert.equal(parseEngineConfig({ model: 'm', port: 8000, runtime: { kind: 'process', argv: ['vllm', 'serve', 'm', '--max-num-seqs=48'] } }).capacity, 48);
    assert.throws(
      () => parseEngineConfig({ model: 'm', port: 8000, capacity: 256, engineArgs: ['--max-num-seqs', '1024'], runtime: docker }),
      /capacity 256 disagrees with --max-num-seqs 1024/,
    );
    assert.throws(() => parseEngineConfig({ model: 'm', port: 8000, engineArgs: ['--max-num-seqs', 'many'], runtime: docker }), /positive whole number/);
  });

  it('gives a process-run vLLM the stop grace its --shutdown-timeout needs', () => {
    const c = parseEngineConfig({ model: 'm', port: 8000, runtime: { kind: 'process', argv: ['vllm', 'serve', 'm', '--shutdown-timeout', '45'] } });
    assert.equal(c.stopGraceMs, 45_000 + SHUTDOWN_GRACE_MARGIN_MS);
  });
});

// The fixtures are written in the shape of real vLLM /metrics output: vllm-metrics.txt follows
// vLLM 0.10 (V1 engine: `engine` and `model_name` labels, `vllm:kv_cache_usage_perc`, the
// prometheus_client Python preamble, histograms, `_created` samples in exponent notation), and
// vllm-metrics-v0.6.txt follows vLLM 0.6 (only `model_name`, `vllm:gpu_cache_usage_perc`). They
// were written from vLLM's metrics documentation (docs/design/metrics.md, "v0 Metrics" / V1
// metric names) and published captures of v0.10.2 output, not captured on this machine.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { hasCode } from '@synkti/interface';
import { ENGINE_ERROR_CODES } from './errors.js';
import { loadFromMetricsText, UNKNOWN_LOAD } from './load.js';
import { parsePrometheusText } from './prometheus.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../src/fixtures/${name}`, import.meta.url), 'utf8');

describe('prometheus text parser', () => {
  it('parses the vLLM 0.10 fixture', () => {
    const samples = parsePrometheusText(fixture('vllm-metrics.txt'));
    const running = samples.find((s) => s.name === 'vllm:num_requests_running');
    assert.deepEqual(running, {
      name: 'vllm:num_requests_running',
      labels: { engine: '0', model_name: 'Qwen/Qwen3-0.6B' },
      value: 3,
      timestampMs: null,
    });
    const inf = samples.find((s) => s.name === 'vllm:time_to_first_token_seconds_bucket' && s.labels['le'] === '+Inf');
    assert.equal(inf?.value, 40);
    const created = samples.find((s) => s.name === 'http_requests_created');
    assert.equal(created?.value, 1.7599942431203225e9);
    assert.equal(samples.find((s) => s.name === 'vllm:cache_config_info')?.labels['num_gpu_blocks'], '55488');
  });

  it('handles escaped quotes, NaN, ±Inf, timestamps and comments', () => {
    const samples = parsePrometheusText(
      [
        '# a free comment',
        '# HELP x A metric with "quotes" in help',
        'x{a="say \\"hi\\"",b="back\\\\slash",c="line\\nbreak",d="}"} NaN 1700000000000',
        'y +Inf',
        'z{} -Inf',
        'w{a="1",} 2e-3',
        'v Nan',
        '',
      ].join('\n'),
    );
    assert.equal(samples.length, 5);
    assert.ok(Number.isNaN(samples[4]?.value), "prom-client's spelling of NaN, which Prometheus reads");
    assert.deepEqual(samples[0]?.labels, { a: 'say "hi"', b: 'back\\slash', c: 'line\nbreak', d: '}' });
    assert.ok(Number.isNaN(samples[0]?.value));
    assert.equal(samples[0]?.timestampMs, 1_700_000_000_000);
    assert.equal(samples[1]?.value, Number.POSITIVE_INFINITY);
    assert.equal(samples[2]?.value, Number.NEGATIVE_INFINITY);
    assert.equal(samples[3]?.value, 0.002);
  });

  it('rejects malformed lines with a coded error naming the line', () => {
    for (const bad of ['x{a=unquoted} 1', 'x{a="open} 1', 'x 1 2 3', 'x abc', '{a="b"} 1', 'x{a="1"}1', 'x{a="\\q"} 1']) {
      assert.throws(
        () => parsePrometheusText(`ok 1\n${bad}\n`),
        (err: unknown) => hasCode(err, ENGINE_ERROR_CODES.METRICS_PARSE) && (err as Error).message.startsWith('metrics line 2'),
        bad,
      );
    }
  });
});

describe('load from vLLM metrics', () => {
  it('reads running, waiting and vllm:kv_cache_usage_perc (vLLM 0.10)', () => {
    assert.deepEqual(loadFromMetricsText(fixture('vllm-metrics.txt')), { running: 3, waiting: 1, kvCacheUsage: 0.0421875 });
  });

  it('reads the older vllm:gpu_cache_usage_perc (vLLM 0.6)', () => {
    assert.deepEqual(loadFromMetricsText(fixture('vllm-metrics-v0.6.txt')), { running: 7, waiting: 2, kvCacheUsage: 0.6512345 });
  });

  it('prefers the newer KV metric when both are present, and sums counts across labels', () => {
    const text = [
      'vllm:num_requests_running{engine="0",model_name="a"} 2',
      'vllm:num_requests_running{engine="1",model_name="a"} 3',
      'vllm:num_requests_waiting{engine="0",model_name="a"} 1',
      'vllm:num_requests_waiting{engine="1",model_name="a"} NaN',
      'vllm:gpu_cache_usage_perc{model_name="a"} 0.9',
      'vllm:kv_cache_usage_perc{engine="0",model_name="a"} 0.25',
      'vllm:kv_cache_usage_perc{engine="1",model_name="a"} 0.5',
    ].join('\n');
    assert.deepEqual(loadFromMetricsText(text), { running: 5, waiting: 1, kvCacheUsage: 0.5 });
  });

  it('gives unknown load for garbage or missing metrics, never a throw', () => {
    assert.deepEqual(loadFromMetricsText('<html>502 Bad Gateway</html>'), UNKNOWN_LOAD);
    assert.deepEqual(loadFromMetricsText('process_cpu_seconds_total 3\n'), UNKNOWN_LOAD);
    assert.deepEqual(loadFromMetricsText(''), UNKNOWN_LOAD);
  });
});

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { json } from './test-helpers.js';

const CLI = fileURLToPath(new URL('./cli.js', import.meta.url));

interface Run {
  child: ChildProcess;
  lines: AsyncIterableIterator<string>;
  exit: Promise<[number | null, NodeJS.Signals | null]>;
  stderr: () => string;
}

function run(args: string[]): Run {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exit = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return { child, lines, exit, stderr: () => stderr };
}

async function nextEvent(r: Run): Promise<Record<string, unknown>> {
  const next = await r.lines.next();
  assert.ok(next.done !== true, `no more output; stderr: ${r.stderr()}`);
  return JSON.parse(next.value);
}

describe('fake-vllm CLI', { timeout: 20_000 }, () => {
  it('prints the listening line, serves, and exits 0 on SIGTERM', async (t) => {
    const r = run(['--port', '0', '--model', 'a,b', '--model', 'c', '--ttft-ms', '1', '--tokens-per-s', '0']);
    t.after(() => r.child.kill('SIGKILL'));
    const listening = await nextEvent(r);
    assert.equal(listening.event, 'listening');
    assert.equal(typeof listening.port, 'number');
    assert.equal(listening.url, `http://127.0.0.1:${listening.port}`);
    assert.deepEqual(await nextEvent(r), { event: 'ready' });
    const models = await json(fetch(`${listening.url}/v1/models`));
    assert.deepEqual(
      models.data.map((m: { id: string }) => m.id),
      ['a', 'b', 'c'],
    );
    r.child.kill('SIGTERM');
    assert.deepEqual(await r.exit, [0, null]);
  });

  it("opens the port only when loaded in 'closed' mode", async (t) => {
    const r = run(['--port', '0', '--load-ms', '150', '--load-mode', 'closed']);
    t.after(() => r.child.kill('SIGKILL'));
    const listening = await nextEvent(r);
    assert.equal(listening.event, 'listening');
    assert.equal((await fetch(`${listening.url}/health`)).status, 200, 'loaded by the time the port opens');
    r.child.kill('SIGINT');
    assert.deepEqual(await r.exit, [0, null]);
  });

  it('takes the load mode, engine version, stall and health delay flags', async (t) => {
    const r = run([
      '--port', '0', '--load-ms', '100', '--load-mode', 'accept-close', '--engine-version', '0.11.0',
      '--stall-after-ms', '0', '--health-delay-ms', '1',
    ]);
    t.after(() => r.child.kill('SIGKILL'));
    const listening = await nextEvent(r);
    assert.equal(listening.event, 'listening');
    assert.deepEqual(await nextEvent(r), { event: 'ready' });
    const url = String(listening.url);
    assert.deepEqual(await json(fetch(`${url}/version`)), { version: '0.11.0' });
    const state = await json(fetch(`${url}/_fake/state`));
    assert.equal(state.faults.stall, true);
    assert.equal(state.faults.healthDelayMs, 1);
    assert.equal((await fetch(`${url}/health`)).status, 200);
    r.child.kill('SIGTERM');
    assert.deepEqual(await r.exit, [0, null]);
  });

  it('exits 1 on an injected crash', async (t) => {
    const r = run(['--port', '0', '--crash-after-ms', '20']);
    t.after(() => r.child.kill('SIGKILL'));
    const [code] = await r.exit;
    assert.equal(code, 1);
    assert.match(r.stderr(), /crashed/);
  });

  it('prints the dead event on an engine death, answers 503 on /health, then exits 1', async (t) => {
    const r = run(['--port', '0', '--die-after-ms', '100', '--death-exit-ms', '300']);
    t.after(() => r.child.kill('SIGKILL'));
    const listening = await nextEvent(r);
    assert.deepEqual(await nextEvent(r), { event: 'ready' });
    assert.deepEqual(await nextEvent(r), { event: 'dead' });
    assert.equal((await fetch(`${String(listening.url)}/health`)).status, 503);
    const [code] = await r.exit;
    assert.equal(code, 1);
    assert.match(r.stderr(), /EngineDeadError/);
  });

  for (const args of [['--port', '0', '--bogus'], [], ['--port', 'x'], ['--port', '0', '--error-rate', '2'], ['--port', '0', '--load-mode', 'open'], ['--port', '0', '--health-delay-ms', '-1']]) {
    it(`exits 2 with one line on bad input: ${args.join(' ') || '(none)'}`, async (t) => {
      const r = run(args);
      t.after(() => r.child.kill('SIGKILL'));
      const [code] = await r.exit;
      assert.equal(code, 2);
      const lines = r.stderr().split('\n').filter((l) => l !== '');
      assert.equal(lines.length, 1, r.stderr());
      assert.match(lines[0] ?? '', /^fake-vllm: /);
    });
  }
});

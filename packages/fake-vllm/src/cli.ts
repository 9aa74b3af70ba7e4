#!/usr/bin/env node
/**
 * `fake-vllm --port P [--model M] [--load-ms N] ...`: an emulated vLLM OpenAI server as a
 * process, for the engine supervisor's process runtime and for local mode. Prints one JSON
 * line per lifecycle event on stdout ({"event":"listening","url","port"}, {"event":"ready"},
 * {"event":"dead"} when the engine dies). Exit codes: 0 after SIGTERM/SIGINT, 1 on a crash
 * (injected, or the exit that follows an engine death), 2 on bad flags.
 */
import { parseCliArgs, USAGE } from './cli-args.js';
import { createFakeVllm } from './fake-vllm.js';

const line = (event: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(event)}\n`);
};

function fail(code: number, message: string): never {
  process.stderr.write(`fake-vllm: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  const args = parseCliArgs(process.argv.slice(2));
  if (!args.ok) fail(2, `${args.message} (try --help)`);
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const fake = createFakeVllm(args.options);
  fake.on('listening', ({ url, port }) => line({ event: 'listening', url, port }));
  fake.on('ready', () => line({ event: 'ready' }));
  fake.on('dead', () => line({ event: 'dead' }));
  // A crash is a dead process: no cleanup, exit at once, like vLLM killed by a fault.
  fake.on('crash', (err) => fail(1, `crashed: ${err.message}`));

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    fake.stop().then(
      () => process.exit(0),
      (err: unknown) => fail(1, `error while stopping on ${signal}: ${String(err)}`),
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  await fake.start();
}

main().catch((err: unknown) => fail(1, err instanceof Error ? err.message : String(err)));

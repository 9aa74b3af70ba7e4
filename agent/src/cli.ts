#!/usr/bin/env node
// The AWS SDK warns once per process that Node 20 is past its support window; images run Node 24.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= '1';
import '@synkti/mesh'; // installs the Promise.withResolvers polyfill before anything loads libp2p
import { SynktiError } from '@synkti/interface';
import { Command, CommanderError } from 'commander';
import { registerAgentCommand } from './commands/agent.js';
import { registerKeygenCommand } from './commands/keygen.js';
import { registerLocalCommand, registerStatusCommand } from './commands/local.js';
import { renderConfigDocs } from './config/index.js';
import { AGENT_VERSION } from './version.js';

/** One readable line on stderr and a non-zero exit: the CLI's error convention. */
export function fail(message: string, exitCode = 1): never {
  process.stderr.write(`synkti: ${message}\n`);
  process.exit(exitCode);
}

const program = new Command()
  .name('synkti')
  .description('Serve LLMs on volatile GPU spot capacity: a peer-to-peer agent with no central coordinator.')
  .version(AGENT_VERSION)
  .showSuggestionAfterError(true)
  .exitOverride()
  .configureOutput({ writeErr: (text) => process.stderr.write(text.startsWith('error:') ? `synkti: ${text.slice(7)}` : text) });

registerAgentCommand(program);
registerKeygenCommand(program);
registerLocalCommand(program);
registerStatusCommand(program);
program
  .command('sim')
  .description('Simulate a whole fleet on the real fleet core: spot market, preemptions, traffic, cost (synkti sim --help).')
  .helpOption(false)
  .allowUnknownOption(true)
  .allowExcessArguments(true)
  .action(async (_opts: unknown, command: Command) => {
    const { simMain } = await import('@synkti/sim');
    process.exitCode = await simMain(command.args);
  });
program
  .command('config-docs')
  .description('Print the configuration reference (docs/configuration.md) generated from the schema.')
  .action(() => {
    process.stdout.write(renderConfigDocs());
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  if (err instanceof SynktiError) fail(err.message);
  fail(err instanceof Error ? (err.stack ?? err.message) : String(err));
}

import type { Command } from 'commander';
import { Agent } from '../agent.js';
import { type ConfigKey, configKeys, flagName, loadConfig } from '../config/index.js';
import { createLogger } from '../logger.js';

export function registerAgentCommand(program: Command): void {
  const command = program
    .command('agent')
    .description('Run one Synkti agent (config from flags, SYNKTI_* environment and an optional JSON file).')
    .option('--config <file>', 'JSON config file (also SYNKTI_CONFIG)');
  for (const [name, key] of Object.entries(configKeys) as [string, ConfigKey][]) {
    command.option(`--${flagName(name)} <value>`, key.list ? `${key.describe} (comma-separated)` : key.describe);
  }
  command.action(async (opts: Record<string, string | undefined>) => {
    const { config: file, ...flags } = opts;
    const config = await loadConfig({ flags, ...(file !== undefined ? { file } : {}) });
    const logger = createLogger(config.logLevel, config.logFormat);
    const agent = new Agent(config, logger);
    runUntilSignal(agent, logger);
    // After an interruption notice (or as surplus) the node has drained: stop cleanly and exit 0.
    agent.onLeave(() => {
      agent.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
    await agent.start();
  });
}

/**
 * SIGTERM or SIGINT drains the agent (served streams finish or are handed over, its own clients'
 * streams end) and stops it cleanly (goodbye, then parts in reverse); a second signal exits at once.
 */
export function runUntilSignal(agent: { shutdown(): Promise<void> }, logger: { info(o: object, m: string): void; error(o: object, m: string): void }): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    logger.info({ signal }, 'stopping');
    agent.shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

import type { Command } from 'commander';
import { Agent } from '../agent.js';
import { type ConfigKey, configKeys, flagName, loadConfig } from '../config/index.js';
import { EXIT } from '../exit-codes.js';
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
    // After an interruption notice (or as surplus) the node has drained: stop, terminate the own
    // instance, and exit with the status that tells systemd not to start the agent again.
    agent.onLeave((reason) => {
      agent.leaveFleet(reason).then(
        () => process.exit(EXIT.LEFT_FLEET),
        (err: unknown) => {
          logger.error({ err }, 'leaving failed');
          process.exit(EXIT.LEFT_FLEET);
        },
      );
    });
    await agent.start();
  });
}

/**
 * SIGTERM, SIGINT or SIGHUP drains the agent (served streams finish or are handed over, its own clients'
 * streams end) and stops it cleanly (goodbye, then parts in reverse); a second signal exits at once.
 */
export function runUntilSignal(agent: { shutdown(): Promise<void> }, logger: { info(o: object, m: string): void; error(o: object, m: string): void }): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(EXIT.INTERRUPTED);
    stopping = true;
    logger.info({ signal }, 'stopping');
    agent.shutdown().then(
      () => process.exit(EXIT.OK),
      (err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exit(EXIT.FAILED);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // The terminal closed: a handled signal, so the engine is stopped, not left behind.
  process.on('SIGHUP', onSignal);
}

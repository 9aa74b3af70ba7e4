export { Agent, SwarmKeyMissingError } from './agent.js';
export { loadConfig, configKeys, configSchema, ConfigError, envName, flagName, type AgentConfig } from './config/index.js';
export { createLogger } from './logger.js';
export { AGENT_VERSION } from './version.js';
export { AGENT_NODE_FLAGS } from './node-flags.js';
export { EXIT, SELF_TERMINATE_TIMEOUT_MS } from './exit-codes.js';
export { ephemeralPortRange } from './local/ephemeral.js';
export { readRuntimeFile, type RuntimeInfo } from './runtime-file.js';

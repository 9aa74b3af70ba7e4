export { configKeys, type ConfigKey, type ConfigKeyName } from './keys.js';
export { loadConfig, configSchema, ConfigError, envName, flagName, type AgentConfig, type ConfigSources } from './load.js';
export { renderConfigDocs } from './docs.js';

export { runSimulation, type RunOptions } from './simulate.js';
export type { SimResult } from './result.js';
export { type SimConfig, type PolicyName, type TrafficMode, POLICY_NAMES, defaultConfig, resolveConfig } from './config.js';
export { SimConfigError, SimInvariantError } from './errors.js';
export { EventHeap } from './heap.js';

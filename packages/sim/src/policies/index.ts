import type { SimConfig } from '../config.js';
import { fallbackPolicy } from './fallback.js';
import { greedyPolicy } from './greedy.js';
import { mixedPolicy } from './mixed.js';
import { onDemandPolicy } from './on-demand.js';
import type { Policy } from './policy.js';

export type { Policy } from './policy.js';

export function policyFor(config: SimConfig): Policy {
  switch (config.policy) {
    case 'greedy':
      return greedyPolicy(config);
    case 'fallback':
      return fallbackPolicy(config);
    case 'mixed':
      return mixedPolicy(config);
    case 'on-demand':
      return onDemandPolicy(config);
  }
}

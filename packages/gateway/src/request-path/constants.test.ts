import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { admissionLimitFor, MAX_IN_FLIGHT } from './constants.js';

describe('the default admission limit', () => {
  it("is four of the agent's engines, never below MAX_IN_FLIGHT (a gateway-only agent, a small engine)", () => {
    assert.equal(admissionLimitFor(undefined), MAX_IN_FLIGHT);
    assert.equal(admissionLimitFor(4), MAX_IN_FLIGHT, 'llama.cpp with 4 slots');
    assert.equal(admissionLimitFor(256), MAX_IN_FLIGHT);
    assert.equal(admissionLimitFor(1_024), 4_096, "vLLM's default on an H100");
  });
});

import { fileURLToPath } from 'node:url';

/** test/dist/harness/ -> repository root */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const cliPath = `${repoRoot}agent/dist/cli.js`;
export const fakeVllmCliPath = `${repoRoot}packages/fake-vllm/dist/cli.js`;

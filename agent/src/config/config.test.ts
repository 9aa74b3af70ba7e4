import assert from 'node:assert/strict';
import { readFile, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { renderConfigDocs } from './docs.js';
import { ConfigError, envName, flagName, loadConfig } from './load.js';

describe('agent config', () => {
  it('applies defaults', async () => {
    const config = await loadConfig({ env: {} });
    assert.equal(config.fleet, 'default');
    assert.equal(config.heartbeatMs, 1_000);
    assert.equal(config.swarmKeyFile, join('.synkti/agent', 'swarm.key'));
    assert.deepEqual(config.bootstrap, []);
  });

  it('layers file, then environment, then flags', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'synkti-config-'));
    const file = join(dir, 'c.json');
    await writeFile(file, JSON.stringify({ fleet: 'from-file', apiPort: 1000, heartbeatMs: 500 }));
    const config = await loadConfig({ file, env: { SYNKTI_API_PORT: '2000', SYNKTI_BOOTSTRAP: '/ip4/10.0.0.1/tcp/4001, /ip4/10.0.0.2/tcp/4001' }, flags: { apiPort: '3000' } });
    assert.equal(config.fleet, 'from-file');
    assert.equal(config.heartbeatMs, 500);
    assert.equal(config.apiPort, 3000);
    assert.deepEqual(config.bootstrap, ['/ip4/10.0.0.1/tcp/4001', '/ip4/10.0.0.2/tcp/4001']);
  });

  it('names the key, flag and variable of a bad value', async () => {
    await assert.rejects(loadConfig({ env: { SYNKTI_DEAD_AFTER_MS: 'soon' } }), (err: unknown) => err instanceof ConfigError && err.code === 'CONFIG_INVALID' && /deadAfterMs \(--dead-after-ms, SYNKTI_DEAD_AFTER_MS\)/.test(err.message));
    await assert.rejects(loadConfig({ env: {}, flags: { fleet: 'Bad Name' } }), /fleet/);
    await assert.rejects(loadConfig({ env: {}, flags: { bootstrap: 'not-a-multiaddr' } }), /bootstrap .*not a multiaddr/);
    await assert.rejects(loadConfig({ env: { SYNKTI_API_KEYS: 'good-key,bad key!' } }), /apiKeys .*only letters, digits/);
    // One request body limit: never above what a serving peer takes over the mesh.
    await assert.rejects(loadConfig({ env: { SYNKTI_MAX_BODY_BYTES: String(121 * 1024 * 1024) } }), /maxBodyBytes \(--max-body-bytes, SYNKTI_MAX_BODY_BYTES\)/);
  });

  it('rejects unknown keys and unreadable files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'synkti-config-'));
    const file = join(dir, 'c.json');
    await writeFile(file, JSON.stringify({ fleeet: 'typo' }));
    await assert.rejects(loadConfig({ file, env: {} }), /unknown key\(s\) fleeet/);
    await assert.rejects(loadConfig({ file: join(dir, 'missing.json'), env: {} }), /cannot read config file/);
    await writeFile(file, '[1,2]');
    await assert.rejects(loadConfig({ file, env: {} }), /not a JSON object/);
  });

  it('derives flag and variable names from keys', () => {
    assert.equal(flagName('engineStartupBudgetMs'), 'engine-startup-budget-ms');
    assert.equal(envName('engineStartupBudgetMs'), 'SYNKTI_ENGINE_STARTUP_BUDGET_MS');
  });

  it('keeps docs/configuration.md in sync with the schema', async () => {
    const onDisk = await readFile(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
    assert.equal(onDisk, renderConfigDocs(), 'regenerate with: node agent/dist/cli.js config-docs > docs/configuration.md');
  });
});

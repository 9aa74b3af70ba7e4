import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { EC2_ACTIONS, TAG_FLEET, TAG_KEYS, TAG_SLOT } from '@synkti/cloud';
import { configKeys, envName, EXIT, loadConfig } from 'synkti-agent';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from '../harness/paths.js';

const run = promisify(execFile);
const infra = (path: string) => join(repoRoot, 'infra', path);
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** A spot interruption notice comes this long before the instance is reclaimed. */
const SPOT_NOTICE_S = 120;

// --- systemd ---------------------------------------------------------------------------------

/** [Section] Key=Value, repeated keys kept in order (systemd's syntax, without line continuations). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1]!, current);
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    assert.ok(kv && current, `line ${i + 1} is Key=Value inside a section: ${line}`);
    current.set(kv[1]!, [...(current.get(kv[1]!) ?? []), kv[2]!]);
  }
  return sections;
}

describe('infra/systemd/synkti-agent.service', () => {
  const path = infra('systemd/synkti-agent.service');
  const text = readFileSync(path, 'utf8');
  const unit = parseUnit(text);
  const service = unit.get('Service')!;
  const one = (key: string) => {
    const values = service.get(key);
    assert.ok(values !== undefined, `[Service] ${key} is set`);
    return values.at(-1)!;
  };

  it('restarts always, reads the env file, runs the installed CLI as a dedicated user in the docker group', () => {
    assert.equal(one('Restart'), 'always');
    assert.equal(one('EnvironmentFile'), '/etc/synkti/agent.env');
    assert.equal(one('ExecStart'), '/usr/bin/synkti-agent');
    assert.ok(!['root', '0'].includes(one('User')), 'not root');
    assert.match(one('SupplementaryGroups'), /\bdocker\b/, 'docker group for the docker engine runtime');
    assert.equal(unit.get('Install')?.get('WantedBy')?.[0], 'multi-user.target');
    assert.match(unit.get('Unit')?.get('After')?.join(' ') ?? '', /docker\.service/);
  });

  it('never restarts an agent that left the fleet on purpose, and powers off (terminate) if it could not terminate itself', () => {
    assert.equal(one('RestartPreventExitStatus'), String(EXIT.LEFT_FLEET), 'exit status LEFT_FLEET is final');
    assert.ok(!([EXIT.OK, EXIT.FAILED] as number[]).includes(EXIT.LEFT_FLEET), 'a crash or a clean stop is not a departure');
    const post = one('ExecStopPost');
    assert.match(post, /^\+/, 'runs privileged');
    assert.ok(post.includes(`"$$EXIT_STATUS" = ${EXIT.LEFT_FLEET}`), 'only after a departure');
    assert.match(post, /shutdown -h/);
    const template = JSON.parse(readFileSync(infra('launch-template.json'), 'utf8')) as { LaunchTemplateData?: { InstanceInitiatedShutdownBehavior?: string }; InstanceInitiatedShutdownBehavior?: string };
    assert.equal(template.LaunchTemplateData?.InstanceInitiatedShutdownBehavior ?? template.InstanceInitiatedShutdownBehavior, 'terminate', 'a powered-off node is terminated');
  });

  it('waits on SIGTERM longer than the whole drain (served streams, then the own clients\' streams)', () => {
    const stopS = Number(one('TimeoutStopSec'));
    const relayS = (configKeys.drainRelayTimeoutMs.schema.parse(undefined) as number) / 1000;
    assert.ok(stopS > relayS, `TimeoutStopSec ${stopS} s > drainRelayTimeoutMs ${relayS} s`);
  });

  it('stops with SIGTERM and waits longer than a drain (spot notice ≥ drain margin + engine stop)', () => {
    assert.equal(one('KillSignal'), 'SIGTERM');
    const stopS = Number(one('TimeoutStopSec'));
    const drainMarginS = (configKeys.drainMarginMs.schema.parse(undefined) as number) / 1000;
    assert.ok(stopS > drainMarginS, `TimeoutStopSec ${stopS} s > drain margin ${drainMarginS} s`);
    assert.ok(stopS >= SPOT_NOTICE_S, `TimeoutStopSec ${stopS} s covers a whole spot notice (${SPOT_NOTICE_S} s)`);
    assert.notEqual(one('KillMode'), 'none');
  });

  it('rejects IMDS traffic from containers before the agent starts, on every start, failing closed', () => {
    const pre = service.get('ExecStartPre') ?? [];
    const guard = pre.find((c) => c.includes('DOCKER-USER'));
    assert.ok(guard, 'an ExecStartPre adds the DOCKER-USER rule');
    assert.match(guard, /^\+\//, "privileged ('+'), and not ignored on failure ('-')");
    const rule = 'DOCKER-USER -d 169.254.169.254/32 -j REJECT';
    assert.ok(guard.includes(`iptables -C ${rule}`) && guard.includes(`|| iptables -I ${rule}`), 'checked first, so restarts add no duplicate');
    assert.match(unit.get('Unit')?.get('After')?.join(' ') ?? '', /docker\.service/, 'after docker has created the chain');
  });

  it('hardens without breaking node or docker access', () => {
    assert.equal(one('NoNewPrivileges'), 'true');
    assert.equal(one('ProtectSystem'), 'strict');
    assert.equal(service.get('MemoryDenyWriteExecute')?.at(-1) ?? 'false', 'false', "V8's JIT needs W+X memory");
    assert.match(one('RestrictAddressFamilies'), /AF_UNIX/, 'the docker socket is AF_UNIX');
    assert.ok(!/PrivateNetwork=true/.test(text), 'the agent serves on the network');
  });

  it('passes systemd-analyze verify (where available)', async (t) => {
    if (!has('systemd-analyze')) {
      t.skip('systemd-analyze is not installed; the key checks above still ran');
      return;
    }
    // verify checks that ExecStart's binary exists: point a copy at a stand-in for /usr/bin/synkti-agent.
    const dir = mkdtempSync(join(tmpdir(), 'synkti-unit-'));
    try {
      const bin = join(dir, 'synkti');
      writeFileSync(bin, '#!/bin/sh\n');
      chmodSync(bin, 0o755);
      const copy = join(dir, 'synkti-agent.service');
      writeFileSync(copy, text.replace(/^ExecStart=\/usr\/bin\/synkti-agent$/m, `ExecStart=${bin}`));
      const out = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8', timeout: 30_000 });
      const output = `${out.stdout}${out.stderr}`.trim();
      if (out.status !== 0 && /not been booted with systemd|Failed to connect to bus|Failed to initialize manager/i.test(output)) {
        t.skip(`systemd-analyze cannot run without systemd here (${output.split('\n')[0]}); the key checks above still ran`);
        return;
      }
      assert.equal(out.status, 0, `systemd-analyze verify: ${output}`);
      assert.equal(output, '', `no warnings: ${output}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// --- cloud-init --------------------------------------------------------------------------------

interface CloudConfig {
  write_files: { path: string; content: string; permissions?: string; owner?: string }[];
  runcmd: (string | string[])[];
}

const userDataText = readFileSync(infra('cloud-init/user-data.yaml'), 'utf8');
const userData = parseYaml(userDataText, { strict: true, uniqueKeys: true }) as CloudConfig;
const envFile = userData.write_files.find((f) => f.path === '/etc/synkti/agent.env');
const agentEnv = Object.fromEntries(
  (envFile?.content ?? '')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => {
      const eq = l.indexOf('=');
      return [l.slice(0, eq), l.slice(eq + 1)];
    }),
) as Record<string, string>;

describe('infra/cloud-init/user-data.yaml', () => {
  it('is cloud-config YAML', () => {
    assert.ok(userDataText.startsWith('#cloud-config\n'), 'first line is #cloud-config');
    assert.equal(typeof userData, 'object');
    for (const key of Object.keys(userData)) assert.ok(['write_files', 'runcmd'].includes(key), `known cloud-config module ${key}`);
  });

  it('writes /etc/synkti/agent.env (root only) with keys the agent knows and values it accepts', async () => {
    assert.ok(envFile, 'writes /etc/synkti/agent.env');
    assert.equal(envFile.permissions, '0600');
    const known = new Set(Object.keys(configKeys).map(envName));
    for (const name of Object.keys(agentEnv)) assert.ok(known.has(name), `${name} is a config key (docs/configuration.md)`);
    const config = await loadConfig({ env: agentEnv });
    assert.equal(config.provider, 'ec2');
    assert.ok(config.targetSize > 0);
    assert.ok(config.placements.length > 0);
    assert.ok(config.placements.some((p) => p.endsWith('@on-demand')), 'an on-demand fallback placement');
    assert.ok(config.bootstrap.length > 0, 'bootstrap peers');
    assert.ok(config.ec2LaunchTemplate !== undefined);
    assert.equal(config.engineRuntime, 'docker');
    assert.ok(config.engineImage !== undefined && !/:latest$/.test(config.engineImage), 'a pinned vLLM image, named where the AMI can see it');
    // Qwen3-8B's 40,960-token context does not fit a 24 GB GPU's KV cache at vLLM's defaults.
    assert.ok(config.engineArgs.some((a) => /^--max-model-len(=\d+)?$/.test(a)), 'the reference deployment bounds the context (--max-model-len)');
    assert.ok(config.engineArgs.some((a) => /^--gpu-memory-utilization(=[\d.]+)?$/.test(a)), 'the reference deployment shows --gpu-memory-utilization');
    assert.ok(config.swarmKeySsmParameter !== undefined, 'the swarm key comes from SSM');
    assert.equal(config.swarmKeySsmParameter, `/synkti/${config.fleet}/swarm-key`, 'the parameter the swarm-key policy allows');
  });

  it('agrees with the AMI: the pre-pulled image, the HF cache, the service', () => {
    const provision = readFileSync(infra('packer/provision.sh'), 'utf8');
    const packer = readJson<{ variables: Record<string, string> }>(infra('packer/synkti-ami.json'));
    assert.equal(agentEnv['SYNKTI_ENGINE_IMAGE'], packer.variables['vllm_image'], 'the image the AMI pre-pulls');
    assert.match(provision, new RegExp(`^HF_CACHE=${agentEnv['SYNKTI_ENGINE_HF_CACHE_DIR']}$`, 'm'), 'the cache the AMI fills');
    const cmds = userData.runcmd.map((c) => (Array.isArray(c) ? c.join(' ') : c));
    assert.ok(cmds.includes('systemctl enable --now synkti-agent.service'), 'enables and starts the service');
  });
});

// --- launch template + IAM ---------------------------------------------------------------------

interface Statement {
  Action: string | string[];
  Resource: string | string[];
}
const asList = (v: string | string[]) => (Array.isArray(v) ? v : [v]);

describe('infra/launch-template.json and the IAM policies', () => {
  const template = readJson<Record<string, unknown> & { MetadataOptions: Record<string, unknown>; IamInstanceProfile: { Name: string }; UserData: string; BlockDeviceMappings: { DeviceName: string; Ebs: { VolumeSize: number } }[] }>(infra('launch-template.json'));
  const policy = readJson<{ Statement: Statement[] }>(infra('iam-policy.json'));
  const ssmPolicy = readJson<{ Statement: Statement[] }>(infra('iam-swarm-key-policy.json'));
  const trust = readJson<{ Statement: { Principal: { Service: string }; Action: string }[] }>(infra('iam-trust-policy.json'));

  it('requires IMDSv2 with a hop limit of 1 (the host agent reaches it, the engine container does not) and instance tags (synkti:slot)', () => {
    assert.deepEqual(template.MetadataOptions, { HttpEndpoint: 'enabled', HttpTokens: 'required', HttpPutResponseHopLimit: 1, InstanceMetadataTags: 'enabled' });
    assert.equal(TAG_SLOT, 'synkti:slot');
  });

  it('names the instance profile of the role the IAM policy lets the agent pass', () => {
    const passRole = policy.Statement.find((s) => asList(s.Action).includes('iam:PassRole'))!;
    assert.deepEqual(asList(passRole.Resource), [`arn:aws:iam::<ACCOUNT_ID>:role/${template.IamInstanceProfile.Name}`]);
    assert.equal(trust.Statement[0]?.Principal.Service, 'ec2.amazonaws.com');
    assert.equal(trust.Statement[0]?.Action, 'sts:AssumeRole');
  });

  it('leaves to each launch what the provider sets per launch (type, subnet, market, tags)', () => {
    for (const key of ['InstanceType', 'SubnetId', 'NetworkInterfaces', 'InstanceMarketOptions', 'TagSpecifications']) {
      assert.ok(!(key in template), `${key} comes from the RunInstances call, not the template`);
    }
    assert.equal(template['InstanceInitiatedShutdownBehavior'], 'terminate');
  });

  it('carries the cloud-init user data and a root volume large enough for the HF cache, like the bake', () => {
    assert.equal(template.UserData, '<BASE64_OF_infra/cloud-init/user-data.yaml>');
    assert.ok(existsSync(join(repoRoot, 'infra/cloud-init/user-data.yaml')));
    const packer = readJson<{ builders: { launch_block_device_mappings: { device_name: string; volume_size: number }[] }[] }>(infra('packer/synkti-ami.json'));
    const baked = packer.builders[0]!.launch_block_device_mappings[0]!;
    const root = template.BlockDeviceMappings.find((b) => b.DeviceName === baked.device_name);
    assert.ok(root, `the template maps the AMI's root device ${baked.device_name}`);
    assert.ok(root.Ebs.VolumeSize >= baked.volume_size, 'at least the baked size');
  });

  it('grants exactly the EC2 actions the code calls, the tags it writes, and the swarm key read', () => {
    const actions = new Set(policy.Statement.flatMap((s) => asList(s.Action)));
    for (const action of EC2_ACTIONS) assert.ok(actions.has(action), action);
    const text = JSON.stringify(policy);
    for (const tag of TAG_KEYS) assert.ok(text.includes(tag), `iam-policy.json names ${tag}`);
    assert.deepEqual(ssmPolicy.Statement.flatMap((s) => asList(s.Action)).sort(), ['kms:Decrypt', 'ssm:GetParameter']);
    const parameter = asList(ssmPolicy.Statement.find((s) => asList(s.Action).includes('ssm:GetParameter'))!.Resource)[0]!;
    assert.equal(parameter, `arn:aws:ssm:*:<ACCOUNT_ID>:parameter/synkti/\${aws:PrincipalTag/${TAG_FLEET}}/swarm-key`);
  });
});

// --- packer ------------------------------------------------------------------------------------

describe('infra/packer', () => {
  it('provision.sh is valid bash (and shellcheck-clean where shellcheck is installed)', async () => {
    await run('bash', ['-n', infra('packer/provision.sh')]);
    if (has('shellcheck')) await run('shellcheck', [infra('packer/provision.sh')]);
  });

  it('never puts HF_TOKEN on a command line: an env file in a private directory, sourced and deleted', () => {
    interface Provisioner {
      type: string;
      script?: string;
      inline?: string[];
      remote_folder?: string;
      use_env_var_file?: boolean;
      environment_vars?: string[];
      execute_command?: string;
    }
    const packer = readJson<{ provisioners: Provisioner[]; 'sensitive-variables': string[] }>(infra('packer/synkti-ami.json'));
    assert.ok(packer['sensitive-variables'].includes('hf_token'), 'masked in the log');
    const i = packer.provisioners.findIndex((p) => p.environment_vars?.some((v) => v.startsWith('HF_TOKEN=')));
    const bake = packer.provisioners[i]!;
    assert.equal(bake.use_env_var_file, true, 'the variables travel in a file, not in the command');
    const command = bake.execute_command ?? '';
    assert.ok(!/\.Vars\b/.test(command), `no {{ .Vars }} in ${command}`);
    const sourced = command.indexOf('. {{ .EnvVarFile }}');
    const removed = command.indexOf('rm -f {{ .EnvVarFile }}');
    assert.ok(sourced >= 0 && removed > sourced && command.indexOf('{{ .Path }}', removed) > removed, 'sourced, deleted, then the script');
    const folder = bake.remote_folder!;
    assert.ok(
      packer.provisioners.slice(0, i).some((p) => p.inline?.includes(`mkdir -m 0700 ${folder}`)),
      `${folder} is created private (mkdir fails if it already exists) before the file is uploaded into it`,
    );
    const provision = readFileSync(infra('packer/provision.sh'), 'utf8');
    assert.ok(!/HF_TOKEN=|set -x|\bset -[a-wyz]*x/.test(provision.replace(/^#.*$/gm, '')), 'provision.sh never writes the token out');
    assert.match(provision, /docker run [^\n]*-e HF_TOKEN /, 'the model download gets it by name');
  });

  it('passes `packer validate` (Debian packer 1.6.x reads the JSON template)', async (t) => {
    if (!has('packer')) {
      t.skip('packer is not installed (.ci/run installs it with apt-get install packer): NOT VALIDATED');
      return;
    }
    // The file provisioner's source must exist at validation: a stand-in for the packed agent.
    const dir = mkdtempSync(join(tmpdir(), 'synkti-packer-'));
    try {
      const tarball = join(dir, 'synkti-agent.tgz');
      writeFileSync(tarball, '');
      const { stdout, stderr } = await run('packer', ['validate', '-var', `agent_tarball=${tarball}`, infra('packer/synkti-ami.json')], {
        timeout: 60_000,
        env: { ...process.env, CHECKPOINT_DISABLE: '1', PACKER_CHECKPOINT_DISABLE: '1' },
      }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`packer validate failed: ${err.stdout ?? ''}${err.stderr ?? err.message}`);
      });
      assert.ok(!/error/i.test(`${stdout}${stderr}`), `${stdout}${stderr}`);
      // And a missing tarball is caught, so the template really names it.
      await assert.rejects(run('packer', ['validate', '-var', `agent_tarball=${join(dir, 'missing.tgz')}`, infra('packer/synkti-ami.json')], { timeout: 60_000 }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// --- docs ---------------------------------------------------------------------------------------

describe('docs/deploy-aws.md agrees with infra/', () => {
  const doc = readFileSync(join(repoRoot, 'docs/deploy-aws.md'), 'utf8');

  it('fills every placeholder of the IAM policies', () => {
    const fill = /^fill\(\) \{[\s\S]*?\}$/m.exec(doc)?.[0] ?? '';
    assert.ok(fill !== '', 'the fill() helper');
    for (const name of ['iam-policy.json', 'iam-swarm-key-policy.json', 'iam-ebs-kms-policy.json', 'iam-trust-policy.json']) {
      for (const [placeholder] of readFileSync(infra(name), 'utf8').matchAll(/<[A-Z_]+>/g)) {
        assert.ok(fill.includes(`s/${placeholder}/`) || fill.includes(`s|${placeholder}|`), `fill() replaces ${placeholder} of ${name}`);
        const variable = /\$([A-Z_]+)/.exec(fill.slice(fill.indexOf(placeholder)))?.[1];
        assert.ok(variable !== undefined && new RegExp(`export [^\\n]*\\b${variable}=`).test(doc.replace(/\\\n/g, ' ')), `$${variable} (for ${placeholder}) is set somewhere in the doc`);
      }
    }
  });

  it('launches the anchor with a shutdown that stops it, since the template terminates', () => {
    const template = readJson<{ InstanceInitiatedShutdownBehavior: string }>(infra('launch-template.json'));
    assert.equal(template.InstanceInitiatedShutdownBehavior, 'terminate');
    assert.match(doc, /^run_node 0 .*--instance-initiated-shutdown-behavior stop.*# the on-demand anchor$/m);
  });

  it('covers spot quotas, the hop limit, the EBS key and scheduled maintenance', () => {
    assert.match(doc, /--quota-code L-3819A6DF/, 'All G and VT Spot Instance Requests');
    assert.match(doc, /iptables -C DOCKER-USER -d 169\.254\.169\.254\/32 -j REJECT/);
    assert.match(doc, /iam-ebs-kms-policy\.json/);
    assert.match(doc, /events\/maintenance\/scheduled/);
  });
});

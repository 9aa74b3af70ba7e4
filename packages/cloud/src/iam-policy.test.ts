import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { EC2_ACTIONS, TAG_FLEET, TAG_KEYS } from './constants.js';

interface Statement {
  Sid: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}
interface Policy {
  Version: string;
  Statement: Statement[];
}

const infra = (name: string) => new URL(`../../../infra/${name}`, import.meta.url);
const readPolicy = (name: string) => JSON.parse(readFileSync(infra(name), 'utf8')) as Policy;
const policy = readPolicy('iam-policy.json');
const template = JSON.parse(readFileSync(infra('launch-template.json'), 'utf8')) as { MetadataOptions: Record<string, unknown> };
const asList = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);
const actionsOf = (s: Statement): string[] => asList(s.Action);
const statementsFor = (action: string, p: Policy = policy): Statement[] => p.Statement.filter((s) => actionsOf(s).includes(action));
const condition = (s: Statement, op: string, key: string): string | string[] | undefined => s.Condition?.[op]?.[key];
/** The IAM policy variable of the caller's own fleet: the agent role carries the fleet tag. */
const FLEET_OF_ROLE = `\${aws:PrincipalTag/${TAG_FLEET}}`;
const TEMPLATE_ARN = /^arn:aws:ec2:\*:<ACCOUNT_ID>:launch-template\/<LAUNCH_TEMPLATE_ID>$/;

/**
 * The EC2 actions the provider's source calls: every `new XCommand(` (or `new sdk.XCommand(`) in packages/cloud/src/ec2
 * (tests and test helpers aside), plus CreateTags when RunInstances tags at launch (EC2
 * authorizes tag-on-create as ec2:CreateTags). Read from the source, so a command added there
 * fails this test until the policy allows it.
 */
function actionsTheCodeCalls(): Set<string> {
  const dir = new URL('../src/ec2/', import.meta.url);
  const actions = new Set<string>();
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.ts') || name.endsWith('.test.ts') || name.includes('test-helpers')) continue;
    const source = readFileSync(new URL(name, dir), 'utf8');
    // `new XCommand(` or, with the SDK loaded lazily, `new sdk.XCommand(`.
    for (const match of source.matchAll(/\bnew\s+(?:\w+\.)?([A-Z]\w*)Command\s*\(/g)) actions.add(`ec2:${match[1]}`);
    if (/\bTagSpecifications\s*:/.test(source)) actions.add('ec2:CreateTags');
  }
  return actions;
}

/** The RunInstances statements that cover a resource of this type (e.g. `image/`). */
const runStatementsOn = (resourceType: string) =>
  statementsFor('ec2:RunInstances').filter((s) => asList(s.Resource).some((r) => r.includes(`:${resourceType}/`)));

describe('infra/iam-policy.json', () => {
  it('allows every EC2 action the provider calls, read-only Describe actions, iam:PassRole, and nothing else', () => {
    assert.equal(policy.Version, '2012-10-17');
    const allowed = new Set(policy.Statement.flatMap(actionsOf));
    const called = actionsTheCodeCalls();
    assert.ok(called.has('ec2:RunInstances') && called.has('ec2:TerminateInstances'), `scanned the provider: ${[...called].join(', ')}`);
    for (const action of new Set([...called, ...EC2_ACTIONS])) assert.ok(allowed.has(action), `${action} is called but not allowed`);
    assert.ok(allowed.has('ec2:DescribeSpotPriceHistory'), 'spot prices are read to rank placements');
    for (const action of allowed) {
      if (action === 'iam:PassRole') continue;
      assert.ok(action.startsWith('ec2:'), `unexpected ${action} (KMS belongs in iam-ebs-kms-policy.json)`);
      assert.ok(called.has(action) || (EC2_ACTIONS as readonly string[]).includes(action) || action.startsWith('ec2:Describe'), `${action} is allowed but never called`);
    }
    for (const s of policy.Statement) {
      assert.equal(s.Effect, 'Allow', s.Sid);
      for (const a of actionsOf(s)) assert.ok(!a.includes('*'), `${s.Sid}: no wildcard actions (${a})`);
    }
  });

  it('uses only the provider tag keys in conditions, and scopes by the fleet tag', () => {
    const tagKeys = new Set<string>();
    for (const s of policy.Statement) {
      for (const [op, conditions] of Object.entries(s.Condition ?? {})) {
        for (const [key, value] of Object.entries(conditions)) {
          const tag = /^(?:aws|ec2):(?:RequestTag|ResourceTag)\/(.+)$/.exec(key)?.[1];
          if (tag !== undefined) tagKeys.add(tag);
          if (key === 'aws:TagKeys') {
            assert.equal(op, 'ForAllValues:StringEquals');
            assert.deepEqual([...asList(value)].sort(), [...TAG_KEYS].sort(), 'aws:TagKeys lists exactly the provider tag keys');
          }
        }
      }
    }
    for (const tag of tagKeys) assert.ok((TAG_KEYS as readonly string[]).includes(tag), `unknown tag key ${tag}`);
    assert.ok(tagKeys.has(TAG_FLEET));
  });

  it('scopes RunInstances by the fleet launch template (only spot requests lack the key)', () => {
    const runs = statementsFor('ec2:RunInstances');
    assert.ok(runs.length > 0);
    for (const s of runs) {
      const resources = asList(s.Resource);
      if (resources.every((r) => r.includes(':spot-instances-request/'))) {
        // The service authorization reference gives spot-instances-request only aws:RequestTag,
        // aws:TagKeys and ec2:Region: an ec2:LaunchTemplate condition there denies every spot launch.
        assert.equal(s.Condition, undefined, `${s.Sid}: a condition on a key the resource lacks fails`);
        continue;
      }
      assert.match(String(condition(s, 'ArnLike', 'ec2:LaunchTemplate')), TEMPLATE_ARN, s.Sid);
      assert.ok(!resources.includes('*'), `${s.Sid}: RunInstances names its resource types`);
    }
    assert.deepEqual(asList(runStatementsOn('launch-template')[0]!.Resource), ['arn:aws:ec2:*:<ACCOUNT_ID>:launch-template/<LAUNCH_TEMPLATE_ID>']);
  });

  it('takes the image, security groups and volumes from the template only (ec2:IsLaunchTemplateResource)', () => {
    for (const type of ['image', 'security-group', 'volume']) {
      const statements = runStatementsOn(type);
      assert.ok(statements.length > 0, `${type} is allowed`);
      for (const s of statements) assert.equal(condition(s, 'Bool', 'ec2:IsLaunchTemplateResource'), 'true', `${s.Sid}: ${type} cannot be overridden`);
    }
    assert.ok(runStatementsOn('key-pair').length === 0, 'no key pair: the template names none (Session Manager instead)');
  });

  it('puts subnets and network interfaces in the fleet VPC (each launch names its subnet, so they cannot come from the template)', () => {
    for (const type of ['subnet', 'network-interface']) {
      const statements = runStatementsOn(type);
      assert.ok(statements.length > 0, `${type} is allowed`);
      for (const s of statements) {
        assert.equal(condition(s, 'ArnLike', 'ec2:Vpc'), 'arn:aws:ec2:*:<ACCOUNT_ID>:vpc/<VPC_ID>', s.Sid);
        assert.equal(condition(s, 'Bool', 'ec2:IsLaunchTemplateResource'), undefined, `${s.Sid}: the placement's subnet is a request parameter`);
      }
    }
  });

  it('launches instances and volumes only tagged into the own fleet', () => {
    for (const type of ['instance', 'volume']) {
      const [s, ...more] = runStatementsOn(type);
      assert.ok(s !== undefined && more.length === 0, `one statement for ${type}`);
      assert.equal(condition(s, 'StringEquals', `aws:RequestTag/${TAG_FLEET}`), FLEET_OF_ROLE, s.Sid);
      assert.equal(condition(s, 'Null', 'aws:RequestTag/synkti:slot'), 'false', s.Sid);
    }
    assert.equal(condition(runStatementsOn('volume')[0]!, 'Bool', 'ec2:Encrypted'), 'true');
  });

  it('launches instances only with IMDSv2 and the hop limit of the launch template (containers cannot reach the role)', () => {
    const [s] = runStatementsOn('instance');
    assert.equal(template.MetadataOptions['HttpTokens'], 'required');
    assert.equal(condition(s!, 'StringEquals', 'ec2:MetadataHttpTokens'), 'required');
    const limit = Number(condition(s!, 'NumericLessThanEquals', 'ec2:MetadataHttpPutResponseHopLimit'));
    assert.equal(limit, 1, 'the agent runs on the host');
    assert.ok(Number(template.MetadataOptions['HttpPutResponseHopLimit']) <= limit, 'the template passes its own policy');
  });

  it('allows CreateTags only as part of RunInstances', () => {
    const creates = statementsFor('ec2:CreateTags');
    assert.ok(creates.length > 0);
    for (const s of creates) {
      assert.equal(condition(s, 'StringEquals', 'ec2:CreateAction'), 'RunInstances', s.Sid);
      assert.equal(condition(s, 'StringEquals', `aws:RequestTag/${TAG_FLEET}`), FLEET_OF_ROLE, s.Sid);
    }
  });

  it('allows TerminateInstances only on instances tagged with the own fleet', () => {
    const terminates = statementsFor('ec2:TerminateInstances');
    assert.equal(terminates.length, 1);
    assert.equal(condition(terminates[0]!, 'StringEquals', `aws:ResourceTag/${TAG_FLEET}`), FLEET_OF_ROLE);
    assert.ok(asList(terminates[0]!.Resource).every((r) => r.includes(':instance/')));
  });

  it('gives Resource "*" only to Describe actions (which have no resource-level permissions)', () => {
    for (const s of policy.Statement) {
      if (asList(s.Resource).some((r) => r === '*' || /:\*$/.test(r))) {
        for (const a of actionsOf(s)) assert.match(a, /^ec2:Describe/, `${s.Sid}: ${a} on every resource`);
        assert.equal(s.Condition, undefined, `${s.Sid}: Describe actions take no conditions here`);
      }
    }
  });
});

describe('infra/iam-ebs-kms-policy.json (optional: only with a customer-managed EBS key)', () => {
  const kms = readPolicy('iam-ebs-kms-policy.json');

  it('names only the EBS key and the actions EBS encryption needs, each conditioned', () => {
    assert.equal(kms.Version, '2012-10-17');
    assert.deepEqual(
      [...new Set(kms.Statement.flatMap(actionsOf))].sort(),
      ['kms:CreateGrant', 'kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'],
    );
    for (const s of kms.Statement) {
      assert.match(s.Sid, /^Optional/, 'marked optional');
      assert.deepEqual(asList(s.Resource), ['<EBS_KMS_KEY_ARN>'], s.Sid);
      assert.equal(condition(s, 'StringLike', 'kms:ViaService'), 'ec2.*.amazonaws.com', `${s.Sid}: only through EC2`);
    }
  });

  it('creates grants only for AWS resources (the volume attachment), never for a principal of its choosing', () => {
    for (const s of statementsFor('kms:CreateGrant', kms)) assert.equal(condition(s, 'Bool', 'kms:GrantIsForAWSResource'), 'true', s.Sid);
  });
});

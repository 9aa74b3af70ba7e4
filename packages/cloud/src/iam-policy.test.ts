import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { EC2_ACTIONS, TAG_FLEET, TAG_KEYS } from './constants.js';

interface Statement {
  Sid: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

const policyPath = new URL('../../../infra/iam-policy.json', import.meta.url);
const policy = JSON.parse(readFileSync(policyPath, 'utf8')) as { Version: string; Statement: Statement[] };
const asList = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);
const actionsOf = (s: Statement): string[] => asList(s.Action);
const statementsFor = (action: string): Statement[] => policy.Statement.filter((s) => actionsOf(s).includes(action));
/** The IAM policy variable of the caller's own fleet: the agent role carries the fleet tag. */
const FLEET_OF_ROLE = `\${aws:PrincipalTag/${TAG_FLEET}}`;

describe('infra/iam-policy.json', () => {
  it('allows exactly the EC2 actions the provider calls, plus iam:PassRole, and nothing else', () => {
    assert.equal(policy.Version, '2012-10-17');
    const actions = new Set(policy.Statement.flatMap(actionsOf));
    assert.deepEqual([...actions].filter((a) => a.startsWith('ec2:')).sort(), [...EC2_ACTIONS].sort());
    assert.deepEqual([...actions].filter((a) => !a.startsWith('ec2:')), ['iam:PassRole']);
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
          const tag = /^aws:(?:RequestTag|ResourceTag)\/(.+)$/.exec(key)?.[1];
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

  it('allows RunInstances only with the fleet launch template, and tags only into the own fleet', () => {
    const runs = statementsFor('ec2:RunInstances');
    assert.ok(runs.length > 0);
    for (const s of runs) {
      assert.match(String(s.Condition?.['ArnLike']?.['ec2:LaunchTemplate']), /:launch-template\/<LAUNCH_TEMPLATE_ID>$/, s.Sid);
    }
    const tagged = runs.filter((s) => asList(s.Resource).some((r) => r.includes(':instance/')));
    assert.equal(tagged.length, 1);
    assert.equal(tagged[0]!.Condition?.['StringEquals']?.[`aws:RequestTag/${TAG_FLEET}`], FLEET_OF_ROLE);
    assert.ok(asList(tagged[0]!.Resource).some((r) => r.includes(':volume/')), 'volumes are tagged at launch too');
  });

  it('allows CreateTags only as part of RunInstances', () => {
    for (const s of statementsFor('ec2:CreateTags')) {
      assert.equal(s.Condition?.['StringEquals']?.['ec2:CreateAction'], 'RunInstances', s.Sid);
    }
  });

  it('allows TerminateInstances only on instances tagged with the own fleet', () => {
    const terminates = statementsFor('ec2:TerminateInstances');
    assert.equal(terminates.length, 1);
    assert.equal(terminates[0]!.Condition?.['StringEquals']?.[`aws:ResourceTag/${TAG_FLEET}`], FLEET_OF_ROLE);
    assert.ok(asList(terminates[0]!.Resource).every((r) => r.includes(':instance/')));
  });

  it('gives Resource "*" only to DescribeInstances', () => {
    for (const s of policy.Statement) {
      if (asList(s.Resource).includes('*')) assert.deepEqual(actionsOf(s), ['ec2:DescribeInstances'], s.Sid);
    }
  });
});

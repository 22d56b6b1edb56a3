import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPolicy, loadPolicyFromSources, computePolicyVersion, type PolicySourceFile } from '../../../src/policy';
import { loadError, policyFrom, temporaryPolicyDir } from './policy-fixtures';

const HEADER = `version: 1
defaults: { route: { group: ops-reviewers } }
groups:
  finance-approvers: [alice, bob]
  finance-managers: [carol]
  ops-reviewers: [oscar]
`;

function refuse(content: string, name = 'refunds.yaml'): string {
  return loadError(() => loadPolicyFromSources([{ name, content }])).message;
}

describe('loadPolicy refuses', () => {
  it('an unknown field in a rule, naming file, rule, path and line', () => {
    const message = refuse(`${HEADER}rules:
  - id: refund-large
    when: action.type == "payments.refund"
    outcome: require_approval
    on_timout: deny
`);
    expect(message).toContain('refunds.yaml:11:5 rule "refund-large" (rules.0.on_timout): unknown field "on_timout"');
  });

  it('an unknown top-level field and a wrong version', () => {
    const error = loadError(() => loadPolicyFromSources([{ name: 'p.yaml', content: 'version: 2\npolicies: []\n' }]));
    expect(error.issues.map((issue) => issue.path)).toEqual(expect.arrayContaining(['version', 'policies']));
    expect(error.message).toContain('unknown field "policies"');
  });

  it('bad CEL syntax, with the position in the expression and in the file', () => {
    const error = loadError(() =>
      loadPolicyFromSources([
        {
          name: 'refunds.yaml',
          content: `${HEADER}rules:
  - id: refund-large
    when: payload.amount > > 100
    outcome: deny
`,
        },
      ]),
    );
    expect(error.issues).toHaveLength(1);
    const [issue] = error.issues;
    expect(issue).toMatchObject({ file: 'refunds.yaml', ruleId: 'refund-large', line: 9, column: 28 });
    expect(error.message).toContain('refunds.yaml:9:28 rule "refund-large" (rules.0.when): CEL syntax error at expression offset 17');
    expect(error.message).toContain('Unexpected token');
  });

  it('a CEL reference to a variable the policy does not provide', () => {
    const message = loadError(() => policyFrom({ rules: [{ id: 'r', when: 'request.amount > 1', outcome: 'deny' }] })).message;
    expect(message).toContain('rule "r"');
    expect(message).toContain('CEL type error');
    expect(message).toContain('Unknown variable: request');
  });

  it('a condition that is not boolean', () => {
    const message = loadError(() => policyFrom({ rules: [{ id: 'r', when: '"yes"', outcome: 'deny' }] })).message;
    expect(message).toContain('condition must be a boolean expression, got string');
  });

  it.each([
    ['route', { route: { group: 'nobody' } }, 'rules.0.route.group'],
    ['escalation', { route: { group: 'finance-approvers' }, escalation: [{ to: 'nobody', after: '1h' }] }, 'rules.0.escalation.0.to'],
  ])('an unknown group in %s', (_where, fields, path) => {
    const error = loadError(() => policyFrom({ rules: [{ id: 'r', when: 'true', outcome: 'require_approval', ...fields }] }));
    expect(error.message).toContain(`rule "r" (${path}): unknown group "nobody"`);
  });

  it('an unknown group in owners and in defaults.route', () => {
    const error = loadError(() => policyFrom({ defaults: { route: { group: 'ghosts' } }, owners: [{ resource: 'billing:*', group: 'nobody' }] }));
    expect(error.message).toContain('(owners.0.group): unknown group "nobody"');
    expect(error.message).toContain('(defaults.route.group): unknown group "ghosts"');
  });

  it('on_timeout: allow on a high-risk rule', () => {
    const message = loadError(() =>
      policyFrom({ rules: [{ id: 'r', when: 'true', outcome: 'require_approval', risk: 'high', on_timeout: 'allow' }] }),
    ).message;
    expect(message).toContain('rule "r" (rules.0.on_timeout): on_timeout: allow is not permitted for a high-risk rule');
  });

  it('on_timeout: allow inherited from defaults on a critical rule', () => {
    const message = loadError(() =>
      policyFrom({
        defaults: { route: { group: 'ops-reviewers' }, on_timeout: 'allow' },
        rules: [{ id: 'r', when: 'true', outcome: 'require_approval', risk: 'critical' }],
      }),
    ).message;
    expect(message).toContain('rule "r"');
    expect(message).toContain('on_timeout: allow (inherited from defaults) is not permitted for a critical-risk rule');
  });

  it('more approvals than distinct reviewers in the first tier', () => {
    const message = loadError(() =>
      policyFrom({
        groups: { 'finance-approvers': ['alice', 'bob', 'alice'], 'ops-reviewers': ['oscar', 'alice'] },
        rules: [{ id: 'r', when: 'true', outcome: 'require_approval', route: { group: 'finance-approvers' }, approvals: 3 }],
      }),
    ).message;
    expect(message).toContain('rule "r" (rules.0.approvals): approvals: 3 exceeds the 2 distinct reviewer(s) of first-tier group "finance-approvers"');
  });

  it('owner routing whose owners or fallback cannot supply the approvals', () => {
    const message = loadError(() =>
      policyFrom({
        owners: [{ resource: 'billing:*', group: 'finance-approvers' }],
        groups: { 'finance-approvers': ['alice', 'bob'], 'ops-reviewers': ['oscar'] },
        rules: [{ id: 'r', when: 'true', outcome: 'require_approval', route: { owner_of: 'resource' }, approvals: 2 }],
      }),
    ).message;
    expect(message).toContain('first-tier group "ops-reviewers"');
    expect(message).not.toContain('first-tier group "finance-approvers"');
  });

  it('server execution without an executor', () => {
    const message = loadError(() =>
      policyFrom({ rules: [{ id: 'r', when: 'true', outcome: 'allow', execution: { mode: 'server' } }] }),
    ).message;
    expect(message).toContain('rule "r" (rules.0.execution.executor): server mode needs an `executor`');
  });

  it('owner routing without a default route to fall back on', () => {
    const message = loadError(() =>
      policyFrom({
        defaults: { unmatched: 'deny' },
        rules: [{ id: 'r', when: 'true', outcome: 'require_approval', route: { owner_of: 'resource' } }],
      }),
    ).message;
    expect(message).toContain('owner_of routing needs defaults.route');
  });

  it('unmatched approvals without a default route', () => {
    const message = loadError(() => policyFrom({ defaults: {} })).message;
    expect(message).toContain('defaults.route is required while unmatched actions require approval');
  });

  it('approval settings on a rule that does not require approval', () => {
    const message = loadError(() =>
      policyFrom({ rules: [{ id: 'r', when: 'true', outcome: 'allow', sla: '1h', approvals: 1 }] }),
    ).message;
    expect(message).toContain('(rules.0.sla): sla only applies to require_approval rules');
    expect(message).toContain('(rules.0.approvals): approvals only applies to require_approval rules');
  });

  it('a malformed duration', () => {
    const message = loadError(() => policyFrom({ rules: [{ id: 'a', when: 'true', outcome: 'require_approval', sla: '30 minutes' }] })).message;
    expect(message).toContain('rule "a" (rules.0.sla): expected a duration such as 90s, 30m, 4h or 2d');
  });

  it('a reminder after the deadline and a bad reason placeholder', () => {
    const message = loadError(() =>
      policyFrom({
        rules: [
          { id: 'b', when: 'true', outcome: 'require_approval', sla: '30m', remind_before: '30m' },
          { id: 'c', when: 'true', outcome: 'deny', reason: 'by {{request.agent}}' },
        ],
      }),
    ).message;
    expect(message).toContain("rule \"b\" (rules.0.remind_before): remind_before must be shorter than the first tier's sla");
    expect(message).toContain('rule "c" (rules.1.reason): reason placeholder {{request.agent}} must start with one of agent');
  });

  it('invalid YAML and a repeated key', () => {
    expect(refuse('version: 1\nrules: [\n')).toContain('refunds.yaml:');
    expect(refuse('version: 1\nversion: 1\n')).toMatch(/invalid YAML: .*unique/i);
  });

  it('duplicate rule ids, duplicate groups and a second defaults block across files', () => {
    const files: PolicySourceFile[] = [
      { name: 'a.yaml', content: `${HEADER}rules:\n  - { id: r1, when: "true", outcome: deny }\n` },
      {
        name: 'b.yaml',
        content: 'version: 1\ndefaults: { risk: high }\ngroups: { finance-managers: [dave] }\nrules:\n  - { id: r1, when: "false", outcome: deny }\n',
      },
    ];
    const error = loadError(() => loadPolicyFromSources(files));
    expect(error.message).toContain('b.yaml:5:7 rule "r1" (rules.0.id): rule id "r1" is already used in a.yaml');
    expect(error.message).toContain('b.yaml:3:11 (groups.finance-managers): group "finance-managers" is already defined in a.yaml');
    expect(error.message).toContain('b.yaml:2:1 (defaults): defaults are already set in a.yaml');
  });

  it('an empty or missing directory', () => {
    const empty = temporaryPolicyDir({ 'notes.txt': 'hi' });
    try {
      expect(loadError(() => loadPolicy(empty.dir)).message).toContain('no policy files');
      expect(loadError(() => loadPolicy(`${empty.dir}/missing`)).message).toContain('cannot read policy directory');
    } finally {
      empty.remove();
    }
  });
});

describe('loadPolicy accepts', () => {
  it('several files merged in name order, ignoring *.test.yaml', () => {
    const policyDir = temporaryPolicyDir({
      'b-rules.yml': 'version: 1\nrules:\n  - { id: second, when: "true", outcome: allow }\n',
      'a-base.yaml': `${HEADER}owners: [{ resource: "billing:*", group: finance-approvers }]\nrules:\n  - { id: first, when: "true", outcome: allow }\n`,
      'a-base.test.yaml': 'tests: []\n',
    });
    try {
      const policy = loadPolicy(policyDir.dir);
      expect(policy.files).toEqual(['a-base.yaml', 'b-rules.yml']);
      expect(policy.rules.map((rule) => rule.id)).toEqual(['first', 'second']);
      expect([...policy.groups.keys()]).toEqual(['finance-approvers', 'finance-managers', 'ops-reviewers']);

      const version = policy.policyVersion;
      expect(version).toMatch(/^sha256:[0-9a-f]{64}$/);
      policyDir.write('a-base.test.yaml', 'tests: [] # edited\n');
      expect(loadPolicy(policyDir.dir).policyVersion).toBe(version);
      policyDir.write('b-rules.yml', 'version: 1\nrules:\n  - { id: second, when: "false", outcome: allow }\n');
      expect(loadPolicy(policyDir.dir).policyVersion).not.toBe(version);
    } finally {
      policyDir.remove();
    }
  });

  it('files that are symlinks, as in a mounted Kubernetes ConfigMap', () => {
    const policyDir = temporaryPolicyDir({});
    try {
      mkdirSync(join(policyDir.dir, '..data'));
      writeFileSync(join(policyDir.dir, '..data', 'policy.yaml'), `${HEADER}rules:\n  - { id: linked, when: "true", outcome: allow }\n`);
      symlinkSync(join('..data', 'policy.yaml'), join(policyDir.dir, 'policy.yaml'));
      expect(loadPolicy(policyDir.dir).rules.map((rule) => rule.id)).toEqual(['linked']);
    } finally {
      policyDir.remove();
    }
  });

  it('computes the version from names and contents independent of input order', () => {
    const a = { name: 'a.yaml', content: 'x' };
    const b = { name: 'b.yaml', content: 'y' };
    expect(computePolicyVersion([a, b])).toBe(computePolicyVersion([b, a]));
    expect(computePolicyVersion([a, b])).not.toBe(computePolicyVersion([{ ...a, name: 'c.yaml' }, b]));
  });

  it('reports every problem of a file at once', () => {
    const error = loadError(() =>
      policyFrom({
        rules: [
          { id: 'a', when: 'payload.x >', outcome: 'deny' },
          { id: 'b', when: 'true', outcome: 'require_approval', route: { group: 'nobody' } },
        ],
      }),
    );
    expect(error.issues.map((issue) => issue.ruleId)).toEqual(['a', 'b']);
  });
});

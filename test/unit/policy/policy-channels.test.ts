import { evaluate, loadPolicyFromSources } from '../../../src/policy';
import { unionChannels } from '../../../src/shared/policy';
import { loadError, policyFrom, refundRequest } from './policy-fixtures';

const HEADER = `version: 1
defaults: { route: { group: ops-reviewers } }
groups:
  finance-approvers: [alice, bob]
  finance-managers: [carol]
  ops-reviewers: [oscar]
`;

const REFUND_RULE = {
  id: 'refund',
  when: 'action.type == "payments.refund"',
  outcome: 'require_approval',
  route: { group: 'finance-approvers' },
  sla: '1h',
  escalation: [{ to: 'finance-managers', after: '1h' }],
};

function reviewTiers(document: Record<string, unknown>) {
  const policy = policyFrom({ rules: [REFUND_RULE], ...document });
  return evaluate(policy, refundRequest({ amount: 10 })).review!.tiers;
}

describe('policy channels: load errors', () => {
  it('an unknown channel name, naming file and path', () => {
    const error = loadError(() => loadPolicyFromSources([{ name: 'routing.yaml', content: `${HEADER}channels:\n  finance-approvers: [slack, pager]\n` }]));
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({ file: 'routing.yaml', path: 'channels.finance-approvers.1', line: 8 });
  });

  it('an unknown channel in defaults.channels and an empty list', () => {
    const error = loadError(() =>
      policyFrom({ defaults: { route: { group: 'ops-reviewers' }, channels: ['fax'] }, channels: { 'finance-approvers': [] } }),
    );
    expect(error.issues.map((issue) => issue.path)).toEqual(expect.arrayContaining(['defaults.channels.0', 'channels.finance-approvers']));
    expect(error.message).toContain('list at least one channel');
  });

  it('channels for a group that does not exist, naming file and group', () => {
    const message = loadError(() => loadPolicyFromSources([{ name: 'routing.yaml', content: `${HEADER}channels:\n  security-admins: [email]\n` }])).message;
    expect(message).toContain('routing.yaml:8:3 (channels.security-admins): unknown group "security-admins"');
  });

  it('channels for one group set in two files', () => {
    const error = loadError(() =>
      loadPolicyFromSources([
        { name: 'a.yaml', content: `${HEADER}channels:\n  finance-approvers: [email]\n` },
        { name: 'b.yaml', content: 'version: 1\nchannels:\n  finance-approvers: [slack]\n' },
      ]),
    );
    expect(error.issues).toHaveLength(1);
    expect(error.message).toContain('b.yaml:3:3 (channels.finance-approvers): channels for group "finance-approvers" are already set in a.yaml');
  });
});

describe('policy channels: review plans', () => {
  it('without channels or defaults.channels, tiers leave channels unset (every configured channel)', () => {
    const tiers = reviewTiers({});
    expect(tiers).toHaveLength(2);
    for (const tier of tiers) expect(tier).not.toHaveProperty('channels');
  });

  it('gives each tier its group channels, falling back to defaults.channels', () => {
    const tiers = reviewTiers({
      defaults: { route: { group: 'ops-reviewers' }, channels: ['log', 'webhook'] },
      channels: { 'finance-approvers': ['email', 'slack', 'email'] },
    });
    expect(tiers.map((tier) => [tier.groups, tier.channels])).toEqual([
      [['finance-approvers'], ['slack', 'email']],
      [['finance-managers'], ['log', 'webhook']],
    ]);
  });

  it('leaves an unconfigured group unrestricted when there is no defaults.channels', () => {
    const tiers = reviewTiers({ channels: { 'finance-approvers': ['email'] } });
    expect(tiers[0]!.channels).toEqual(['email']);
    expect(tiers[1]).not.toHaveProperty('channels');
  });

  it('applies to the unmatched default plan and to owner-routed plans, and may sit in any file', () => {
    const policy = loadPolicyFromSources([
      {
        name: 'a.yaml',
        content: `${HEADER}owners:\n  - { resource: "billing:*", group: finance-approvers }\nrules:\n  - { id: owned, when: 'action.type == "owned"', outcome: require_approval, route: { owner_of: resource } }\n`,
      },
      { name: 'b.yaml', content: 'version: 1\nchannels:\n  ops-reviewers: [webhook]\n  finance-approvers: [email]\n' },
    ]);
    expect(policy.channels.get('finance-approvers')).toEqual(['email']);
    expect(policy.defaultChannels).toBeUndefined();
    const unmatched = evaluate(policy, refundRequest({}, { action: { type: 'nothing.matches' } }));
    expect(unmatched.review!.tiers[0]!.channels).toEqual(['webhook']);
    const owned = evaluate(policy, refundRequest({}, { action: { type: 'owned' } }));
    expect(owned.review!.tiers[0]!.channels).toEqual(['email']);
    const fallback = evaluate(policy, refundRequest({}, { action: { type: 'owned' }, resource: { type: 'infra', id: 'x' } }));
    expect(fallback.review!.tiers[0]!.channels).toEqual(['webhook']);
  });
});

describe('unionChannels', () => {
  it('merges in canonical order and is unrestricted as soon as one list is', () => {
    expect(unionChannels([['email'], ['webhook', 'email'], ['log']])).toEqual(['log', 'webhook', 'email']);
    expect(unionChannels([['email'], undefined])).toBeUndefined();
    expect(unionChannels([])).toEqual([]);
  });
});

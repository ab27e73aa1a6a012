import { describe, expect, it } from 'vitest';
import {
  evaluateTrustPolicy,
  globMatches,
  type PolicyDocument,
  parsePolicy,
  permissionAllows,
  type TrustRequester,
} from '../../../../localcloud/core/policy';

const MANAGEMENT = '1000000000000001';
const MEMBER = '1000000000000002';

function trust(statements: unknown[]): PolicyDocument {
  const parsed = parsePolicy(JSON.stringify({ Version: '1', Statement: statements }), 'trust');
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.policy;
}

const allow = (principal: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  Effect: 'Allow',
  Action: 'sts:AssumeRole',
  Principal: principal,
  ...extra,
});

const adminUser: TrustRequester = { type: 'RAMUser', accountId: MANAGEMENT, userName: 'admin' };
const fcRole: TrustRequester = {
  type: 'AssumedRoleUser',
  accountId: MANAGEMENT,
  roleName: 'rd-governance-fc',
};
const memberUser: TrustRequester = { type: 'RAMUser', accountId: MEMBER, userName: 'admin' };
const fcService: TrustRequester = {
  type: 'Service',
  accountId: '',
  serviceName: 'fc.aliyuncs.com',
};

describe('trust policy evaluation', () => {
  it('lets an account root principal admit any RAM identity of that account', () => {
    const policy = trust([allow({ RAM: [`acs:ram::${MANAGEMENT}:root`] })]);
    expect(evaluateTrustPolicy(policy, adminUser, MEMBER).allowed).toBe(true);
    expect(evaluateTrustPolicy(policy, fcRole, MEMBER).allowed).toBe(true);
    expect(evaluateTrustPolicy(policy, memberUser, MEMBER).allowed).toBe(false);
  });

  it('accepts a bare account id like the root form', () => {
    const policy = trust([allow({ RAM: MANAGEMENT })]);
    expect(evaluateTrustPolicy(policy, adminUser, MEMBER).allowed).toBe(true);
  });

  it('matches role and user principals by name, case-insensitively', () => {
    const policy = trust([allow({ RAM: [`acs:ram::${MANAGEMENT}:role/RD-Governance-FC`] })]);
    expect(evaluateTrustPolicy(policy, fcRole, MEMBER).allowed).toBe(true);
    expect(evaluateTrustPolicy(policy, adminUser, MEMBER).allowed).toBe(false);
    const users = trust([allow({ RAM: [`acs:ram::${MANAGEMENT}:user/admin`] })]);
    expect(evaluateTrustPolicy(users, adminUser, MEMBER).allowed).toBe(true);
    expect(evaluateTrustPolicy(users, fcRole, MEMBER).allowed).toBe(false);
  });

  it('admits a service only through a Service principal', () => {
    const policy = trust([allow({ Service: ['fc.aliyuncs.com'] })]);
    expect(evaluateTrustPolicy(policy, fcService, MANAGEMENT).allowed).toBe(true);
    expect(evaluateTrustPolicy(policy, adminUser, MANAGEMENT).allowed).toBe(false);
    const scoped = trust([allow({ Service: [`${MANAGEMENT}@fc.aliyuncs.com`] })]);
    expect(evaluateTrustPolicy(scoped, fcService, MANAGEMENT).allowed).toBe(true);
    expect(evaluateTrustPolicy(scoped, fcService, MEMBER).allowed).toBe(false);
  });

  it('never admits a root account caller through RAM principals', () => {
    const policy = trust([allow({ RAM: [`acs:ram::${MANAGEMENT}:root`] })]);
    expect(
      evaluateTrustPolicy(policy, { type: 'Account', accountId: MANAGEMENT }, MEMBER).allowed,
    ).toBe(false);
  });

  it('lets Deny win over Allow', () => {
    const policy = trust([
      allow({ RAM: [MANAGEMENT] }),
      {
        Effect: 'Deny',
        Action: 'sts:AssumeRole',
        Principal: { RAM: [`acs:ram::${MANAGEMENT}:user/admin`] },
      },
    ]);
    const decision = evaluateTrustPolicy(policy, adminUser, MEMBER);
    expect(decision.allowed).toBe(false);
    expect(decision.reason).toContain('Statement[1]');
    expect(evaluateTrustPolicy(policy, fcRole, MEMBER).allowed).toBe(true);
  });

  it('evaluates sts:ExternalId conditions and fails closed on unknown keys', () => {
    const policy = trust([
      allow({ RAM: [MANAGEMENT] }, { Condition: { StringEquals: { 'sts:ExternalId': 'abc' } } }),
    ]);
    expect(evaluateTrustPolicy(policy, adminUser, MEMBER, { externalId: 'abc' }).allowed).toBe(
      true,
    );
    expect(evaluateTrustPolicy(policy, adminUser, MEMBER, { externalId: 'xyz' }).allowed).toBe(
      false,
    );
    expect(evaluateTrustPolicy(policy, adminUser, MEMBER).allowed).toBe(false);
    const unknown = trust([
      allow({ RAM: [MANAGEMENT] }, { Condition: { IpAddress: { 'acs:SourceIp': '10.0.0.0/8' } } }),
    ]);
    const decision = evaluateTrustPolicy(unknown, adminUser, MEMBER);
    expect(decision.allowed).toBe(false);
    expect(decision.reason).toContain('Condition');
  });
});

describe('policy grammar', () => {
  it('rejects malformed documents with a reason', () => {
    expect(parsePolicy('{', 'trust')).toMatchObject({
      ok: false,
      reason: 'the document is not valid JSON',
    });
    expect(parsePolicy('{"Version":"2","Statement":[]}', 'trust').ok).toBe(false);
    const noPrincipal = parsePolicy(
      JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }] }),
      'trust',
    );
    expect(noPrincipal).toMatchObject({ ok: false });
    const wrongAction = parsePolicy(
      JSON.stringify({
        Version: '1',
        Statement: [allow({ RAM: MANAGEMENT }, { Action: 'ecs:*' })],
      }),
      'trust',
    );
    expect(wrongAction).toMatchObject({ ok: false });
    const noResource = parsePolicy(
      JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'ram:GetRole' }] }),
      'permission',
    );
    expect(noResource).toMatchObject({ ok: false, reason: 'Statement[0].Resource is required' });
  });
});

describe('session policy', () => {
  const parsed = parsePolicy(
    JSON.stringify({
      Version: '1',
      Statement: [
        { Effect: 'Allow', Action: ['ram:Get*', 'resourcemanager:ListAccounts'], Resource: '*' },
        { Effect: 'Allow', Action: 'ram:CreateRole', Resource: 'acs:ram::*:role/log-*' },
        { Effect: 'Deny', Action: 'ram:GetRole', Resource: 'acs:ram::*:role/secret' },
      ],
    }),
    'permission',
  );
  if (!parsed.ok) throw new Error(parsed.reason);
  const policy = parsed.policy;

  it('allows matching actions and resources and lets Deny win', () => {
    expect(permissionAllows(policy, 'ram:GetRole', 'acs:ram::1:role/any')).toBe(true);
    expect(permissionAllows(policy, 'ram:GetRole', 'acs:ram::1:role/secret')).toBe(false);
    expect(permissionAllows(policy, 'resourcemanager:ListAccounts', undefined)).toBe(true);
    expect(permissionAllows(policy, 'ram:CreateRole', 'acs:ram::1:role/log-reader')).toBe(true);
    expect(permissionAllows(policy, 'ram:CreateRole', 'acs:ram::1:role/admin')).toBe(false);
    // A resource-less call is only covered by Resource "*".
    expect(permissionAllows(policy, 'ram:CreateRole', undefined)).toBe(false);
    expect(permissionAllows(policy, 'sts:AssumeRole', undefined)).toBe(false);
  });

  it('globs with * and ? case-insensitively', () => {
    expect(globMatches('ram:get*', 'ram:GetRole')).toBe(true);
    expect(globMatches('a?c', 'abc')).toBe(true);
    expect(globMatches('a.c', 'abc')).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { LocalClock } from '../../../../localcloud/core/clock';
import { LocalCredentialStore } from '../../../../localcloud/core/credentials';
import { FaultInjector } from '../../../../localcloud/core/faults';
import { NonceRegistry } from '../../../../localcloud/core/pop';

function store() {
  let wall = Date.UTC(2024, 0, 1);
  const clock = new LocalClock(() => wall);
  const credentials = new LocalCredentialStore(
    (id) =>
      id === 'LTAIstatic'
        ? {
            secret: 's',
            principal: {
              accountId: '1',
              type: 'RAMUser',
              arn: 'acs:ram::1:user/admin',
              accessKeyId: id,
            },
          }
        : undefined,
    clock,
  );
  return { clock, credentials, tick: (ms: number) => (wall += ms) };
}

describe('LocalCredentialStore', () => {
  it('resolves long-term keys and reports unknown ones', () => {
    const { credentials } = store();
    expect(credentials.resolve('LTAIstatic', undefined)).toMatchObject({ ok: true, secret: 's' });
    expect(credentials.resolve('LTAInope', undefined)).toMatchObject({
      ok: false,
      code: 'InvalidAccessKeyId.NotFound',
    });
  });

  it('issues STS sessions that expire against the localcloud clock', () => {
    const { clock, credentials } = store();
    const session = credentials.issueSession({
      accountId: '2',
      roleName: 'Role',
      roleId: '3',
      sessionName: 's',
      durationSeconds: 900,
      sessionPolicy: '{"Version":"1"}',
    });
    const ok = credentials.resolve(session.accessKeyId, session.securityToken);
    expect(ok).toMatchObject({
      ok: true,
      principal: { type: 'AssumedRoleUser', accountId: '2', sessionPolicy: '{"Version":"1"}' },
    });
    clock.advance(899);
    expect(credentials.resolve(session.accessKeyId, session.securityToken).ok).toBe(true);
    clock.advance(1);
    expect(credentials.resolve(session.accessKeyId, session.securityToken)).toMatchObject({
      ok: false,
      code: 'InvalidSecurityToken.Expired',
    });
  });

  it('tells malformed, mismatched and missing tokens apart', () => {
    const { credentials } = store();
    const a = credentials.issueSession({
      accountId: '2',
      roleName: 'R',
      roleId: '3',
      sessionName: 's',
      durationSeconds: 900,
    });
    const b = credentials.issueSession({
      accountId: '2',
      roleName: 'R',
      roleId: '3',
      sessionName: 's',
      durationSeconds: 900,
    });
    expect(credentials.resolve(a.accessKeyId, b.securityToken)).toMatchObject({
      code: 'InvalidSecurityToken.MismatchWithAccessKey',
    });
    expect(credentials.resolve(a.accessKeyId, 'garbage')).toMatchObject({
      code: 'InvalidSecurityToken.Malformed',
    });
    expect(credentials.resolve(a.accessKeyId, undefined)).toMatchObject({
      code: 'InvalidSecurityToken.Malformed',
    });
    expect(credentials.resolve('STS.unknown', a.securityToken)).toMatchObject({
      code: 'InvalidAccessKeyId.NotFound',
    });
  });

  it('moves the clock forward only', () => {
    const { clock } = store();
    expect(() => clock.advance(-1)).toThrow(RangeError);
    const before = clock.now();
    clock.advance(60);
    expect(clock.now() - before).toBe(60_000);
    expect(clock.wallNow()).toBe(before);
  });
});

describe('NonceRegistry', () => {
  it('refuses a nonce within 15 minutes and forgets it afterwards', () => {
    const nonces = new NonceRegistry();
    const t = Date.UTC(2024, 0, 1);
    expect(nonces.claim('k', 'n1', t)).toBe(true);
    expect(nonces.claim('k', 'n1', t + 1000)).toBe(false);
    expect(nonces.claim('other', 'n1', t + 1000)).toBe(true);
    expect(nonces.claim('k', 'n1', t + 16 * 60_000)).toBe(true);
  });
});

describe('FaultInjector', () => {
  it('picks matching rules at their rate', () => {
    const draws = [0.1, 0.9];
    const faults = new FaultInjector(() => draws.shift() ?? 1);
    faults.add({ service: 'sts', action: 'AssumeRole', kind: 'throttle', rate: 0.5 });
    expect(faults.pick('ram', 'AssumeRole')).toBeUndefined();
    expect(faults.pick('sts', 'GetCallerIdentity')).toBeUndefined();
    expect(faults.pick('sts', 'AssumeRole')?.kind).toBe('throttle');
    expect(faults.pick('sts', 'AssumeRole')).toBeUndefined();
    faults.clear();
    expect(faults.list()).toEqual([]);
  });

  it('validates rules', () => {
    const faults = new FaultInjector();
    expect(() => faults.add({ service: 'sts', action: '*', kind: 'latency', rate: 1 })).toThrow(
      /latencyMs/,
    );
    expect(() => faults.add({ service: 'sts', action: '*', kind: 'throttle', rate: 2 })).toThrow(
      /rate/,
    );
  });
});

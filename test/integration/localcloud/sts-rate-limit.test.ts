// STS's rate limit in localcloud: 100 AssumeRole calls per second per account (the calls of the
// account's RAM users and roles counted together), the 101st answered 400 Throttling.User, as
// STS's POP gateway does. The local cloud's wall clock is stopped here, so "one second" is the
// test's to decide, however slowly the machine runs.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ASSUME_ROLE_LIMIT_PER_SECOND,
  buildOrganization,
  type LocalCloud,
  startLocalCloud,
} from '../../../localcloud/index';
import {
  accessRoleArn,
  assumeRole,
  failure,
  type Keys,
  management,
  members,
  sts,
  stsClient,
} from './support';

let cloud: LocalCloud;
let wall = Date.now();
let admin: Keys;
let memberId: string;
let other: { id: string; keys: Keys };
let sessionCount = 0;

beforeAll(async () => {
  cloud = await startLocalCloud({
    organization: buildOrganization({ members: 3, seed: 'sts-rate-limit' }),
    wallClock: () => wall,
  });
  admin = management(cloud);
  const [a, b] = members(cloud);
  if (!a || !b) throw new Error('need two members');
  memberId = a.id;
  other = { id: b.id, keys: b };
  // A role in the other member that its own administrator may assume.
  cloud.control.addRole(b.id, {
    name: 'self-service',
    trustPolicy: JSON.stringify({
      Version: '1',
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { RAM: [`acs:ram::${b.id}:root`] },
        },
      ],
    }),
  });
});
afterAll(async () => {
  await cloud.stop();
});
beforeEach(() => {
  // A second with no calls before every test; the limit as STS documents it.
  wall += 5_000;
  cloud.control.setStsAssumeRoleLimit(ASSUME_ROLE_LIMIT_PER_SECOND);
});

function intoMember(caller: Keys = admin): Promise<Keys> {
  sessionCount += 1;
  return assumeRole(cloud, caller, accessRoleArn(memberId), {
    sessionName: `rate-test-${sessionCount}`,
  });
}

async function burst(count: number, call: () => Promise<unknown>): Promise<number> {
  const outcomes = await Promise.allSettled(Array.from({ length: count }, () => call()));
  return outcomes.filter((o) => o.status === 'fulfilled').length;
}

describe('STS AssumeRole rate limit', () => {
  it('admits 100 calls of one account in a second and refuses the 101st with 400 Throttling.User', async () => {
    expect(ASSUME_ROLE_LIMIT_PER_SECOND).toBe(100);
    expect(await burst(100, () => intoMember())).toBe(100);
    const refused = await failure(intoMember());
    expect(refused.statusCode).toBe(400);
    expect(refused.code).toBe('Throttling.User');
    expect(refused.message).toContain('Request was denied due to user flow control.');
    const call = cloud.control.calls({ service: 'sts', action: 'AssumeRole' }).at(-1);
    expect(call).toMatchObject({ status: 400, result: 'Throttling.User' });
  });

  it('counts a sliding second of its clock: half a second later still refused, a second later admitted', async () => {
    expect(await burst(100, () => intoMember())).toBe(100);
    wall += 500;
    expect((await failure(intoMember())).code).toBe('Throttling.User');
    wall += 500;
    await expect(intoMember()).resolves.toMatchObject({
      accessKeyId: expect.stringMatching(/^STS\./),
    });
  });

  it('counts per calling account: another account is not refused for the first one', async () => {
    expect(await burst(100, () => intoMember())).toBe(100);
    expect((await failure(intoMember())).code).toBe('Throttling.User');
    const own = await assumeRole(cloud, other.keys, `acs:ram::${other.id}:role/self-service`, {
      sessionName: 'other-account',
    });
    expect(own.accessKeyId).toMatch(/^STS\./);
  });

  it("counts a role session's calls for the account that owns the role, answered or not", async () => {
    const memberSession = await intoMember();
    expect(await burst(99, () => intoMember())).toBe(99);
    expect((await failure(intoMember())).code).toBe('Throttling.User');
    // The member's access role session calls for the member's account, whose count is its own:
    // refused by the other member's trust policy, not throttled.
    const chained = () =>
      stsClient(cloud, memberSession).assumeRole(
        new sts.AssumeRoleRequest({ roleArn: accessRoleArn(other.id), roleSessionName: 'chained' }),
      );
    expect((await failure(chained())).code).toBe('NoPermission');
    // Refused calls count too: 99 more, then the member's 101st call in the second is throttled.
    await burst(99, chained);
    expect((await failure(chained())).code).toBe('Throttling.User');
  });

  it('can be changed or lifted through the controls, typed and over HTTP', async () => {
    cloud.control.setStsAssumeRoleLimit(null);
    expect(await burst(150, () => intoMember())).toBe(150);

    const put = await fetch(`${cloud.env.control}/limits`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ stsAssumeRolePerSecond: 5 }),
    });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ stsAssumeRolePerSecond: 5 });
    wall += 1_000;
    expect(await burst(5, () => intoMember())).toBe(5);
    expect((await failure(intoMember())).code).toBe('Throttling.User');

    const bad = await fetch(`${cloud.env.control}/limits`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ stsAssumeRolePerSecond: 0 }),
    });
    expect(bad.status).toBe(400);
    const read = await fetch(`${cloud.env.control}/limits`);
    expect(await read.json()).toEqual({ stsAssumeRolePerSecond: 5 });
  });
});

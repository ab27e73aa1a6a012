// RAM 2015-05-01 through the official SDK: roles of the caller's own account.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOrganization, type LocalCloud, startLocalCloud } from '../../../localcloud/index';
import { failure, type Keys, members, ram, ramClient } from './support';

let cloud: LocalCloud;
let member: Keys & { id: string };
let other: Keys & { id: string };

const trustManagement = () =>
  JSON.stringify({
    Version: '1',
    Statement: [
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { RAM: [`acs:ram::${cloud.env.managementAccountId}:root`] },
      },
    ],
  });

beforeAll(async () => {
  cloud = await startLocalCloud({ organization: buildOrganization({ members: 3, seed: 'ram' }) });
  const [a, b] = members(cloud);
  if (!a || !b) throw new Error('need two members');
  member = a;
  other = b;
});
afterAll(async () => {
  await cloud.stop();
});

describe('RAM roles', () => {
  it('creates a role that GetRole sees in the same account only', async () => {
    const created = (
      await ramClient(cloud, member).createRole(
        new ram.CreateRoleRequest({
          roleName: 'log-reader',
          assumeRolePolicyDocument: trustManagement(),
          description: 'reads logs',
          maxSessionDuration: 7200,
        }),
      )
    ).body?.role;
    expect(created?.arn).toBe(`acs:ram::${member.id}:role/log-reader`);
    expect(created?.maxSessionDuration).toBe(7200);

    const fetched = (
      await ramClient(cloud, member).getRole(new ram.GetRoleRequest({ roleName: 'LOG-READER' }))
    ).body?.role;
    expect(fetched?.roleName).toBe('log-reader');
    expect(fetched?.description).toBe('reads logs');

    const foreign = await failure(
      ramClient(cloud, other).getRole(new ram.GetRoleRequest({ roleName: 'log-reader' })),
    );
    expect(foreign.code).toBe('EntityNotExist.Role');
    expect(foreign.statusCode).toBe(404);
  });

  it('refuses a duplicate name, a bad name and a malformed trust policy', async () => {
    const client = ramClient(cloud, member);
    const duplicate = await failure(
      client.createRole(
        new ram.CreateRoleRequest({
          roleName: 'Log-Reader',
          assumeRolePolicyDocument: trustManagement(),
        }),
      ),
    );
    expect(duplicate.code).toBe('EntityAlreadyExists.Role');
    expect(duplicate.statusCode).toBe(409);

    const badName = await failure(
      client.createRole(
        new ram.CreateRoleRequest({
          roleName: 'bad name!',
          assumeRolePolicyDocument: trustManagement(),
        }),
      ),
    );
    expect(badName.code).toBe('InvalidParameter.RoleName');

    const malformed = await failure(
      client.createRole(
        new ram.CreateRoleRequest({
          roleName: 'no-principal',
          assumeRolePolicyDocument: JSON.stringify({
            Version: '1',
            Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }],
          }),
        }),
      ),
    );
    expect(malformed.code).toBe('MalformedPolicyDocument');

    const missing = await failure(
      client.createRole(new ram.CreateRoleRequest({ roleName: 'no-policy' })),
    );
    expect(missing.code).toBe('MissingAssumeRolePolicyDocument');
  });

  it('pages ListRoles with Marker/MaxItems', async () => {
    const client = ramClient(cloud, other);
    for (let n = 0; n < 7; n++) {
      await client.createRole(
        new ram.CreateRoleRequest({
          roleName: `paged-${n}`,
          assumeRolePolicyDocument: trustManagement(),
        }),
      );
    }
    const names: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const body = (
        await client.listRoles(
          new ram.ListRolesRequest({ maxItems: 3, ...(marker ? { marker } : {}) }),
        )
      ).body;
      names.push(...(body?.roles?.role ?? []).map((role) => role.roleName ?? ''));
      marker = body?.isTruncated ? body.marker : undefined;
      if (body?.isTruncated) expect(body.marker).toBeTruthy();
      pages++;
    } while (marker);
    const expected = cloud.control
      .organization()
      .accounts.find((account) => account.id === other.id)
      ?.roles.map((role) => role.name);
    expect(pages).toBe(Math.ceil((expected?.length ?? 0) / 3));
    expect([...names].sort()).toEqual([...(expected ?? [])].sort());
    expect(new Set(names).size).toBe(names.length);

    const badMarker = await failure(
      client.listRoles(new ram.ListRolesRequest({ marker: 'not a marker!' })),
    );
    expect(badMarker.code).toBe('InvalidParameter.Marker');
  });
});

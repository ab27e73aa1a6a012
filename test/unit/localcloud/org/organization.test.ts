import { describe, expect, it } from 'vitest';
import { DEMO_ORGANIZATION_PATH } from '../../../../localcloud/index';
import { buildOrganization } from '../../../../localcloud/org/builder';
import {
  FixtureError,
  loadOrganizationFixture,
  parseOrganizationFixture,
} from '../../../../localcloud/org/fixture';
import {
  ACCESS_ROLE_NAME,
  Organization,
  OrganizationError,
} from '../../../../localcloud/org/organization';

function demo(): Organization {
  return new Organization(loadOrganizationFixture(DEMO_ORGANIZATION_PATH));
}

describe('demo organization fixture', () => {
  const organization = demo();
  const members = organization.directoryAccounts().filter((account) => account.kind === 'member');

  it('has at least 24 members of both join methods and types, and a delegated administrator', () => {
    expect(members.length).toBeGreaterThanOrEqual(24);
    expect(new Set(members.map((m) => m.joinMethod))).toEqual(new Set(['created', 'invited']));
    expect(new Set(members.map((m) => m.type))).toEqual(
      new Set(['CloudAccount', 'ResourceAccount']),
    );
    expect(members.find((m) => m.joinMethod === 'created')?.status).toBe('CreateSuccess');
    expect(members.find((m) => m.joinMethod === 'invited')?.status).toBe('InviteSuccess');
    const delegated = organization.delegations.map((d) => d.servicePrincipal);
    expect(delegated).toEqual(
      expect.arrayContaining([
        'cloudfw.aliyuncs.com',
        'sas.aliyuncs.com',
        'bastionhost.aliyuncs.com',
      ]),
    );
  });

  it('has a folder tree at least three levels below Root with members in deep folders', () => {
    const depths = members.map((m) => organization.folderChain(m.folderId).length - 1);
    expect(Math.max(...depths)).toBeGreaterThanOrEqual(3);
  });

  it('gives members the access role (but one), and service-linked roles to some only', () => {
    const withAccess = members.filter((m) => organization.findRole(m.id, ACCESS_ROLE_NAME));
    expect(withAccess.length).toBe(members.length - 1);
    const trust = JSON.parse(
      organization.findRole(members[0]?.id ?? '', ACCESS_ROLE_NAME)?.trustPolicy ?? '{}',
    );
    expect(trust.Statement[0].Principal.RAM).toEqual([
      `acs:ram::${organization.managementAccountId}:root`,
    ]);
    for (const slr of [
      'AliyunServiceRoleForSasRd',
      'AliyunServiceRoleForSasCloudSiem',
      'AliyunServiceRoleForBdrcRd',
    ]) {
      const having = members.filter((m) => organization.findRole(m.id, slr));
      expect(having.length).toBeGreaterThan(0);
      expect(having.length).toBeLessThan(members.length);
      expect(organization.findRole(having[0]?.id ?? '', slr)?.path).toBe('/aliyun-service-role/');
    }
    const fcRole = organization.findRole(organization.managementAccountId, 'rd-governance-fc');
    expect(JSON.parse(fcRole?.trustPolicy ?? '{}').Statement[0].Principal.Service).toEqual([
      'fc.aliyuncs.com',
    ]);
  });

  it('derives the same ids and keys from the same seed, in the cloud formats', () => {
    const again = demo();
    expect(again.managementAccountId).toBe(organization.managementAccountId);
    expect(again.management.admin.keys).toEqual(organization.management.admin.keys);
    expect(organization.resourceDirectoryId).toMatch(/^rd-[a-z0-9]{6}$/);
    for (const account of organization.accounts.values()) {
      expect(account.id).toMatch(/^\d{16}$/);
      expect(account.admin.keys.accessKeyId).toMatch(/^LTAI[A-Za-z0-9]{20}$/);
      expect(account.root.accessKeySecret).toMatch(/^[A-Za-z0-9]{30}$/);
      expect(account.root.accessKeyId).not.toBe(account.admin.keys.accessKeyId);
    }
    for (const folder of organization.folders.values()) {
      if (folder.id !== organization.rootFolderId)
        expect(folder.id).toMatch(/^fd-[A-Za-z0-9]{10}$/);
    }
    const ids = [...organization.accounts.keys()];
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('organization changes', () => {
  it('creates, invites, moves and removes members', () => {
    const organization = Organization.fromFixture(buildOrganization({ members: 2 }));
    const folder = organization.resolveFolder('Production/Retail', 'test');
    const created = organization.createMember({ name: 'new-one', folderId: folder });
    expect(created.folderId).toBe(folder);
    expect(organization.findRole(created.id, ACCESS_ROLE_NAME)).toBeDefined();
    expect(() => organization.createMember({ name: 'new-one' })).toThrow(OrganizationError);

    organization.moveMember(created.id, organization.rootFolderId);
    expect(organization.accounts.get(created.id)?.folderId).toBe(organization.rootFolderId);
    organization.removeMember(created.id);
    expect(organization.directoryAccounts().some((a) => a.id === created.id)).toBe(false);
    // It may be invited back.
    const back = organization.inviteMember({ name: 'new-one', id: created.id });
    expect(back.joinMethod).toBe('invited');
    expect(back.inDirectory).toBe(true);
  });

  it('refuses to remove a delegated administrator or the management account', () => {
    const organization = Organization.fromFixture(buildOrganization({ members: 2 }));
    const delegated = organization.delegations[0]?.accountId ?? '';
    expect(() => organization.removeMember(delegated)).toThrow(/delegated administrator/);
    expect(() => organization.removeMember(organization.managementAccountId)).toThrow(
      /management account/,
    );
  });

  it('validates roles like RAM CreateRole', () => {
    const organization = Organization.fromFixture(buildOrganization({ members: 1 }));
    const id = organization.managementAccountId;
    expect(() => organization.addRole(id, { name: 'bad name', trustPolicy: '{}' })).toThrow(
      /role name/,
    );
    expect(() => organization.addRole(id, { name: 'x', trustPolicy: '{}' })).toThrow(/malformed/);
    expect(() => organization.addRole(id, { name: 'RD-GOVERNANCE-FC', trustPolicy: '{}' })).toThrow(
      /already exists/,
    );
  });

  it('explains an invalid fixture', () => {
    expect(() => parseOrganizationFixture({ seed: 'x', management: {}, members: [] })).toThrow(
      FixtureError,
    );
    expect(() =>
      Organization.fromFixture({
        seed: 'x',
        management: { name: 'm' },
        members: [{ name: 'a', folder: 'Nope/Deeper' }],
      }),
    ).toThrow(/folder "Nope\/Deeper"/);
  });
});

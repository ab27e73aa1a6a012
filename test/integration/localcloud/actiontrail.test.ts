// The ActionTrail events localcloud records for the directory changes made through its
// controls: the CloudEvents EventBridge would deliver, through the HTTP control plane and the
// object API, and what the project's decoder reads from them.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ActionTrailCloudEvent,
  type ActionTrailEntry,
  buildOrganization,
  type EnvAccount,
  type LocalCloud,
  startLocalCloud,
} from '../../../localcloud/index';
import { decodeDirectoryEvents } from '../../../shared/onboarding/directory-events';

let cloud: LocalCloud;
let managementId: string;

beforeAll(async () => {
  cloud = await startLocalCloud({ organization: buildOrganization({ members: 4, seed: 'trail' }) });
  managementId = cloud.env.managementAccountId;
});
afterAll(async () => {
  await cloud.stop();
});

async function control(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${cloud.env.control}/${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function eventsOverHttp(since?: number): Promise<ActionTrailEntry[]> {
  const query = since === undefined ? '' : `?since=${since}`;
  const { status, json } = await control('GET', `events${query}`);
  expect(status).toBe(200);
  return json.events as ActionTrailEntry[];
}

/** A folder's id by its path of names below Root (the move control takes ids). */
function folderId(path: string): string {
  const folder = cloud.control.organization().folders.find((f) => f.path === `Root/${path}`);
  if (!folder) throw new Error(`no folder ${path}`);
  return folder.id;
}

function lastSeq(): number {
  return cloud.events().at(-1)?.seq ?? 0;
}

function names(entries: ActionTrailEntry[]): string[] {
  return entries.map((entry) => entry.event.data.eventName);
}

/** What every event has, whatever the call. */
function expectEnvelope(event: ActionTrailCloudEvent, callerId: string): void {
  expect(event).toMatchObject({
    specversion: '1.0',
    source: 'acs.resourcemanager',
    type: 'resourcemanager:ActionTrail:ApiCall',
    datacontenttype: 'application/json;charset=utf-8',
    aliyunaccountid: callerId,
    aliyuneventbusname: 'default',
    aliyunregionid: 'cn-hangzhou',
  });
  expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
  expect(event.subject).toMatch(new RegExp(`^acs\\.resourcemanager:cn-hangzhou:${callerId}:.+`));
  expect(event.data).toMatchObject({
    eventVersion: 1,
    eventType: 'ApiCall',
    eventRW: 'Write',
    eventSource: 'resourcemanager.aliyuncs.com',
    serviceName: 'ResourceManager',
    acsRegion: 'cn-hangzhou',
    recipientAccountId: callerId,
    userIdentity: { type: 'ram-user', accountId: callerId, userName: 'admin' },
  });
  expect(event.data.eventId).not.toBe(event.id);
  expect(event.data.eventTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  expect(event.time).toBe(event.data.eventTime);
  // An identifier of the caller's key, never its secret.
  const caller = cloud.organization.accounts.get(callerId);
  expect(event.data.userIdentity.accessKeyId).toBe(caller?.admin.keys.accessKeyId);
  expect(JSON.stringify(event)).not.toContain(caller?.admin.keys.accessKeySecret);
}

describe('events of the member controls (object API)', () => {
  it('records CreateResourceAccount by the management account, at the clock time', () => {
    cloud.control.advanceClock(7200);
    const since = lastSeq();
    const member = cloud.control.createMember({ name: 'trail-created', folderId: 'Security' });
    const entries = cloud.events(since);
    expect(names(entries)).toEqual(['CreateResourceAccount']);
    const [entry] = entries;
    expect(entry?.seq).toBe(since + 1);
    const event = entry?.event as ActionTrailCloudEvent;
    expectEnvelope(event, managementId);
    const clockTime = Date.parse(event.data.eventTime);
    expect(Math.abs(clockTime - cloud.clock.now())).toBeLessThan(2000);
    expect(clockTime - Date.now()).toBeGreaterThan(7000 * 1000);
    expect(event.data.requestParameters).toMatchObject({
      DisplayName: 'trail-created',
      ParentFolderId: member.folderId,
    });
    expect(event.data.responseElements).toMatchObject({
      Account: {
        AccountId: member.id,
        FolderId: member.folderId,
        JoinMethod: 'created',
        Type: 'ResourceAccount',
        Status: 'CreateSuccess',
      },
    });
    expect(event.subject).toBe(`acs.resourcemanager:cn-hangzhou:${managementId}:${member.id}`);
  });

  it('records CreateCloudAccount for a member created as a cloud account', () => {
    const since = lastSeq();
    const member = cloud.control.createMember({ name: 'trail-cloud', type: 'CloudAccount' });
    const [entry] = cloud.events(since);
    expect(entry?.event.data.eventName).toBe('CreateCloudAccount');
    expect(entry?.event.data.responseElements).toMatchObject({
      Account: { AccountId: member.id, Type: 'CloudAccount' },
    });
  });

  it('tells listeners of each event in order, until they unsubscribe', () => {
    const seen: string[] = [];
    const unsubscribe = cloud.onEvent((event) => seen.push(event.data.eventName));
    const member = cloud.control.inviteMember({ name: 'trail-listened' });
    cloud.control.moveMember(member.id, folderId('Security'));
    unsubscribe();
    cloud.control.removeMember(member.id);
    expect(seen).toEqual(['InviteAccountToResourceDirectory', 'AcceptHandshake', 'MoveAccount']);
  });

  it('keeps the controls working when a listener throws', () => {
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args);
    const unsubscribe = cloud.onEvent(() => {
      throw new Error('listener broke');
    });
    try {
      const since = lastSeq();
      const member = cloud.control.createMember({ name: 'trail-listener-throws' });
      expect(cloud.events(since).map((e) => e.event.data.responseElements?.Account)).toEqual([
        expect.objectContaining({ AccountId: member.id }),
      ]);
      expect(errors).toHaveLength(1);
    } finally {
      unsubscribe();
      console.error = original;
    }
  });

  it('records nothing for controls that do not change the directory membership', () => {
    const since = lastSeq();
    const member = cloud.env.accounts.find((a) => a.kind === 'member') as EnvAccount;
    cloud.control.addRole(member.id, { name: 'trail-role', trustPolicy: trust(managementId) });
    cloud.control.deleteRole(member.id, 'trail-role');
    cloud.control.advanceClock(1);
    expect(cloud.events(since)).toEqual([]);
  });
});

describe('events of the member controls (HTTP)', () => {
  it('invite: InviteAccountToResourceDirectory, AcceptHandshake by the invitee, MoveAccount', async () => {
    const since = lastSeq();
    const { status, json } = await control('POST', 'members/invite', {
      name: 'trail-invited',
      folderId: 'Production/Retail',
    });
    expect(status).toBe(201);
    const inviteeId = json.id as string;
    const entries = await eventsOverHttp(since);
    expect(names(entries)).toEqual([
      'InviteAccountToResourceDirectory',
      'AcceptHandshake',
      'MoveAccount',
    ]);
    const [invite, accept, move] = entries.map((e) => e.event) as ActionTrailCloudEvent[];
    expectEnvelope(invite as ActionTrailCloudEvent, managementId);
    expectEnvelope(accept as ActionTrailCloudEvent, inviteeId);
    expectEnvelope(move as ActionTrailCloudEvent, managementId);
    expect(invite?.data.requestParameters).toMatchObject({
      TargetEntity: inviteeId,
      TargetType: 'Account',
    });
    const invited = invite?.data.responseElements?.Handshake as Record<string, unknown>;
    const accepted = accept?.data.responseElements?.Handshake as Record<string, unknown>;
    expect(invited).toMatchObject({
      Status: 'Pending',
      MasterAccountId: managementId,
      TargetEntity: inviteeId,
    });
    expect(accepted).toMatchObject({ Status: 'Accepted', HandshakeId: invited.HandshakeId });
    expect(invited.HandshakeId).toMatch(/^h-/);
    expect(accept?.data.requestParameters).toMatchObject({ HandshakeId: invited.HandshakeId });
    expect(move?.data.requestParameters).toMatchObject({
      AccountId: inviteeId,
      DestinationFolderId: json.folderId,
    });
    // Unique ids across the three.
    const ids = entries.flatMap((e) => [e.event.id, e.event.data.eventId]);
    expect(new Set(ids).size).toBe(6);
    expect(entries.map((e) => e.seq)).toEqual([since + 1, since + 2, since + 3]);
  });

  it('invite into Root: no MoveAccount', async () => {
    const since = lastSeq();
    await control('POST', 'members/invite', { name: 'trail-invited-root' });
    expect(names(await eventsOverHttp(since))).toEqual([
      'InviteAccountToResourceDirectory',
      'AcceptHandshake',
    ]);
  });

  it('move: MoveAccount with the account and destination', async () => {
    const member = cloud.control.createMember({ name: 'trail-mover' });
    const since = lastSeq();
    const { status, json } = await control('POST', `members/${member.id}/move`, {
      folderId: folderId('NonProduction/Staging'),
    });
    expect(status).toBe(200);
    const [entry, ...rest] = await eventsOverHttp(since);
    expect(rest).toEqual([]);
    expect(entry?.event.data).toMatchObject({
      eventName: 'MoveAccount',
      requestParameters: { AccountId: member.id, DestinationFolderId: json.folderId },
    });
    expect(entry?.event.data.errorCode).toBeUndefined();
  });

  it('remove: DeleteAccount for a resource account, RemoveCloudAccount for a cloud account', async () => {
    const resource = cloud.control.createMember({ name: 'trail-resource-gone' });
    const invited = cloud.control.inviteMember({ name: 'trail-invited-gone' });
    const since = lastSeq();
    expect((await control('DELETE', `members/${resource.id}`)).status).toBe(200);
    expect((await control('DELETE', `members/${invited.id}`)).status).toBe(200);
    const entries = await eventsOverHttp(since);
    expect(
      entries.map((e) => [e.event.data.eventName, e.event.data.requestParameters.AccountId]),
    ).toEqual([
      ['DeleteAccount', resource.id],
      ['RemoveCloudAccount', invited.id],
    ]);
    for (const entry of entries) expectEnvelope(entry.event, managementId);
  });

  it('records a refused removal or move as the failed call', async () => {
    const delegated = cloud.env.accounts.find((a) => a.kind === 'delegated-administrator');
    expect(delegated).toBeDefined();
    const since = lastSeq();
    const refused = await control('DELETE', `members/${delegated?.id}`);
    expect(refused.status).toBe(409);
    const unknown = await control('POST', 'members/1999999999999999/move', {
      folderId: folderId('Security'),
    });
    expect(unknown.status).toBe(404);
    const entries = await eventsOverHttp(since);
    expect(
      entries.map((e) => [
        e.event.data.eventName,
        e.event.data.errorCode,
        e.event.data.requestParameters.AccountId,
      ]),
    ).toEqual([
      [
        cloud.organization.accounts.get(delegated?.id ?? '')?.type === 'ResourceAccount'
          ? 'DeleteAccount'
          : 'RemoveCloudAccount',
        refused.json.code,
        delegated?.id,
      ],
      ['MoveAccount', unknown.json.code, '1999999999999999'],
    ]);
    for (const entry of entries) {
      expect(entry.event.data.errorMessage).toBeTruthy();
      expect(entry.event.data.responseElements).toBeUndefined();
    }
  });

  it('answers since, clears on DELETE, and keeps counting', async () => {
    const before = await eventsOverHttp();
    expect(before.length).toBeGreaterThan(0);
    expect(await eventsOverHttp(lastSeq())).toEqual([]);
    const last = lastSeq();
    expect((await control('DELETE', 'events')).json).toEqual({ cleared: true });
    expect(await eventsOverHttp()).toEqual([]);
    expect(cloud.events()).toEqual([]);
    cloud.control.createMember({ name: 'trail-after-clear' });
    expect((await eventsOverHttp()).map((e) => e.seq)).toEqual([last + 1]);
    const bad = await control('GET', 'events?since=abc');
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe('InvalidParameter');
  });
});

describe("the project's decoder reads localcloud's events", () => {
  it('decodes every recorded event to the change and account it concerns', async () => {
    const since = lastSeq();
    const created = cloud.control.createMember({ name: 'trail-decoded-created' });
    const invited = cloud.control.inviteMember({
      name: 'trail-decoded-invited',
      folderId: 'Security',
    });
    cloud.control.removeMember(created.id);
    const events = (await eventsOverHttp(since)).map((e) => e.event);
    const decoded = decodeDirectoryEvents(Buffer.from(JSON.stringify(events)));
    expect(
      decoded.map((d) => [d.kind, d.eventName, d.kind === 'change' ? d.accountIds : []]),
    ).toEqual([
      ['change', 'CreateResourceAccount', [created.id]],
      ['change', 'InviteAccountToResourceDirectory', [invited.id]],
      ['change', 'AcceptHandshake', [invited.id]],
      ['change', 'MoveAccount', [invited.id]],
      ['change', 'DeleteAccount', [created.id]],
    ]);
    expect(decoded.map((d) => d.eventId)).toEqual(events.map((e) => e.data.eventId));
  });
});

function trust(accountId: string): string {
  return JSON.stringify({
    Statement: [
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { RAM: [`acs:ram::${accountId}:root`] },
      },
    ],
    Version: '1',
  });
}

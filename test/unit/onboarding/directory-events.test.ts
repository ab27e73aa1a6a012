// Decoding Resource Directory changes from EventBridge CloudEvents carrying ActionTrail records.

import { describe, expect, it } from 'vitest';
import {
  DIRECTORY_EVENT_NAMES,
  type DirectoryEvent,
  decodeDirectoryEvents,
} from '../../../shared/onboarding/directory-events';
import { MalformedTriggerEvent } from '../../../shared/runtime/trigger-events';

const MANAGEMENT = '1512345678901234';
const MEMBER = '1798765432109876';
const OTHER = '1600000000000007';

const managementUser = {
  type: 'ram-user',
  accountId: MANAGEMENT,
  principalId: '203456789012345',
  userName: 'admin',
  accessKeyId: 'LTAI5tExampleKeyId0000',
};

function record(eventName: string, fields: Record<string, unknown> = {}) {
  return {
    eventId: `AT-${eventName}-0001`,
    eventVersion: 1,
    eventType: 'ApiCall',
    eventRW: 'Write',
    eventCategory: 'Management',
    eventName,
    eventSource: 'resourcemanager.aliyuncs.com',
    serviceName: 'ResourceManager',
    apiVersion: '2020-03-31',
    acsRegion: 'cn-hangzhou',
    eventTime: '2024-05-01T08:00:00Z',
    requestId: '5828C836-3286-49A6-9006-15231BB19342',
    sourceIpAddress: '192.168.0.10',
    userAgent: 'AlibabaCloud (linux; x64) Node.js/v20 Core/1.0',
    userIdentity: managementUser,
    ...fields,
  };
}

function cloudEvent(data: unknown, overrides: Record<string, unknown> = {}) {
  return {
    specversion: '1.0',
    id: 'ce-7f3c1a2b',
    source: 'acs.resourcemanager',
    type: 'resourcemanager:ActionTrail:ApiCall',
    subject: `acs.resourcemanager:cn-hangzhou:${MANAGEMENT}:${MEMBER}`,
    time: '2024-05-01T08:00:01Z',
    datacontenttype: 'application/json;charset=utf-8',
    aliyunaccountid: MANAGEMENT,
    aliyunregionid: 'cn-hangzhou',
    aliyuneventbusname: 'default',
    data,
    ...overrides,
  };
}

function handshake(status: string) {
  return {
    HandshakeId: 'h-Ih8IuPfvV0t0AbCd',
    ResourceDirectoryId: 'rd-3Gabcd',
    MasterAccountId: MANAGEMENT,
    MasterAccountName: 'acme-management@example.com',
    TargetEntity: MEMBER,
    TargetType: 'Account',
    Status: status,
    CreateTime: '2024-05-01T08:00:00Z',
    ModifyTime: '2024-05-01T08:00:00Z',
    ExpireTime: '2024-05-15T08:00:00Z',
  };
}

function only(events: DirectoryEvent[]): DirectoryEvent {
  expect(events).toHaveLength(1);
  return events[0] as DirectoryEvent;
}

describe('decodeDirectoryEvents: the seven directory changes', () => {
  it('CreateResourceAccount: the new account from responseElements.Account', () => {
    const event = cloudEvent(
      record('CreateResourceAccount', {
        requestParameters: {
          DisplayName: 'payments-prod',
          AccountNamePrefix: 'payments-prod',
          ParentFolderId: 'fd-Ae1yZ6xxxx',
        },
        responseElements: {
          RequestId: 'A1B2',
          Account: {
            AccountId: MEMBER,
            AccountName: 'payments-prod@rd-3Gabcd.onaliyun.com',
            DisplayName: 'payments-prod',
            FolderId: 'fd-Ae1yZ6xxxx',
            JoinMethod: 'created',
            Status: 'CreateSuccess',
            Type: 'ResourceAccount',
          },
        },
      }),
    );
    expect(decodeDirectoryEvents(event)).toEqual([
      {
        kind: 'change',
        eventId: 'AT-CreateResourceAccount-0001',
        eventName: 'CreateResourceAccount',
        accountIds: [MEMBER],
        time: '2024-05-01T08:00:00Z',
      },
    ]);
  });

  it('CreateCloudAccount: the new account from responseElements.Account', () => {
    const event = cloudEvent(
      record('CreateCloudAccount', {
        requestParameters: { DisplayName: 'sandbox', Email: 'sandbox@example.com' },
        responseElements: {
          Account: { AccountId: OTHER, Type: 'CloudAccount', RecordId: 'ca-1234' },
        },
      }),
    );
    expect(only(decodeDirectoryEvents(event))).toMatchObject({
      kind: 'change',
      eventName: 'CreateCloudAccount',
      accountIds: [OTHER],
    });
  });

  it('InviteAccountToResourceDirectory: TargetEntity when it is an account id', () => {
    const event = cloudEvent(
      record('InviteAccountToResourceDirectory', {
        requestParameters: { TargetEntity: MEMBER, TargetType: 'Account', Note: 'welcome' },
        responseElements: { RequestId: 'X', Handshake: handshake('Pending') },
      }),
    );
    expect(only(decodeDirectoryEvents(event))).toMatchObject({
      kind: 'change',
      eventName: 'InviteAccountToResourceDirectory',
      accountIds: [MEMBER],
    });
  });

  it('InviteAccountToResourceDirectory by email: no account id, the caller reconciles', () => {
    const event = cloudEvent(
      record('InviteAccountToResourceDirectory', {
        requestParameters: { TargetEntity: 'someone@example.com', TargetType: 'Email' },
        responseElements: {
          Handshake: { ...handshake('Pending'), TargetEntity: 'someone@example.com' },
        },
      }),
    );
    expect(only(decodeDirectoryEvents(event))).toMatchObject({
      kind: 'change',
      eventName: 'InviteAccountToResourceDirectory',
      accountIds: [],
    });
  });

  it('AcceptHandshake: the invitee is the caller', () => {
    const event = cloudEvent(
      record('AcceptHandshake', {
        userIdentity: {
          type: 'root-account',
          accountId: OTHER,
          principalId: OTHER,
          accessKeyId: 'LTAI5tInvitee000000000',
        },
        requestParameters: { HandshakeId: 'h-Ih8IuPfvV0t0AbCd' },
        // The handshake's target as the invitation named it (an email here).
        responseElements: {
          Handshake: { ...handshake('Accepted'), TargetEntity: 'invitee@example.com' },
        },
      }),
      { aliyunaccountid: OTHER },
    );
    expect(only(decodeDirectoryEvents(event))).toMatchObject({
      kind: 'change',
      eventName: 'AcceptHandshake',
      accountIds: [OTHER],
    });
  });

  it('AcceptHandshake: caller and handshake target agree, listed once', () => {
    const event = cloudEvent(
      record('AcceptHandshake', {
        userIdentity: { type: 'ram-user', accountId: MEMBER, principalId: '2099', userName: 'ops' },
        responseElements: { Handshake: handshake('Accepted') },
      }),
    );
    expect(only(decodeDirectoryEvents(event))).toMatchObject({ accountIds: [MEMBER] });
  });

  it.each(['MoveAccount', 'RemoveCloudAccount', 'DeleteAccount'] as const)(
    '%s: the account from requestParameters.AccountId',
    (eventName) => {
      const event = cloudEvent(
        record(eventName, {
          requestParameters: {
            AccountId: MEMBER,
            ...(eventName === 'MoveAccount' ? { DestinationFolderId: 'fd-Zz9yZ6xxxx' } : {}),
          },
          responseElements: { RequestId: 'R' },
        }),
      );
      expect(only(decodeDirectoryEvents(event))).toEqual({
        kind: 'change',
        eventId: `AT-${eventName}-0001`,
        eventName,
        accountIds: [MEMBER],
        time: '2024-05-01T08:00:00Z',
      });
    },
  );

  it('knows exactly the seven names', () => {
    expect([...DIRECTORY_EVENT_NAMES].sort()).toEqual(
      [
        'AcceptHandshake',
        'CreateCloudAccount',
        'CreateResourceAccount',
        'DeleteAccount',
        'InviteAccountToResourceDirectory',
        'MoveAccount',
        'RemoveCloudAccount',
      ].sort(),
    );
  });
});

describe('decodeDirectoryEvents: tolerance', () => {
  it('reads requestParameters, responseElements and data given as JSON text', () => {
    const moved = cloudEvent(
      record('MoveAccount', {
        requestParameters: JSON.stringify({ AccountId: MEMBER, DestinationFolderId: 'fd-1' }),
      }),
    );
    const created = cloudEvent(
      JSON.stringify(
        record('CreateResourceAccount', {
          responseElements: JSON.stringify({ Account: { AccountId: OTHER } }),
        }),
      ),
    );
    expect(decodeDirectoryEvents([moved, created]).map((e) => e.kind === 'change' && e)).toEqual([
      expect.objectContaining({ eventName: 'MoveAccount', accountIds: [MEMBER] }),
      expect.objectContaining({ eventName: 'CreateResourceAccount', accountIds: [OTHER] }),
    ]);
  });

  it('accepts ids as numbers and parameter names in another case', () => {
    const event = cloudEvent(
      record('RemoveCloudAccount', { requestParameters: { accountId: 1600000000000007 } }),
    );
    expect(only(decodeDirectoryEvents(event))).toMatchObject({ accountIds: [OTHER] });
  });

  it('ignores values that are not account ids and keeps the change', () => {
    for (const value of ['payments-prod', 'a@b.com', '', '12 34', 'x'.repeat(40), { id: 1 }]) {
      const event = cloudEvent(
        record('DeleteAccount', { requestParameters: { AccountId: value } }),
      );
      expect(only(decodeDirectoryEvents(event))).toMatchObject({
        kind: 'change',
        accountIds: [],
      });
    }
  });

  it('returns no account ids when the record has no parameters at all', () => {
    const event = cloudEvent(record('MoveAccount'));
    expect(only(decodeDirectoryEvents(event))).toMatchObject({ kind: 'change', accountIds: [] });
  });

  it('adds accounts listed as referenced resources, deduplicated', () => {
    const event = cloudEvent(
      record('MoveAccount', {
        requestParameters: { AccountId: MEMBER },
        referencedResources: { 'ACS::ResourceManager::Account': [MEMBER, OTHER, 'not-an-id'] },
      }),
    );
    expect(only(decodeDirectoryEvents(event))).toMatchObject({ accountIds: [MEMBER, OTHER] });
  });

  it('uses the CloudEvent id and time when the record has none', () => {
    const data = record('MoveAccount', { requestParameters: { AccountId: MEMBER } }) as Record<
      string,
      unknown
    >;
    delete data.eventId;
    delete data.eventTime;
    expect(only(decodeDirectoryEvents(cloudEvent(data)))).toEqual({
      kind: 'change',
      eventId: 'ce-7f3c1a2b',
      eventName: 'MoveAccount',
      accountIds: [MEMBER],
      time: '2024-05-01T08:00:01Z',
    });
  });

  it('decodes a Buffer as FC delivers it', () => {
    const payload = Buffer.from(
      JSON.stringify(
        cloudEvent(record('DeleteAccount', { requestParameters: { AccountId: MEMBER } })),
      ),
    );
    expect(only(decodeDirectoryEvents(payload))).toMatchObject({
      eventName: 'DeleteAccount',
      accountIds: [MEMBER],
    });
  });
});

describe('decodeDirectoryEvents: batches, failures and other events', () => {
  it('decodes a batch in order, one result per CloudEvent', () => {
    const batch = [
      cloudEvent(
        record('InviteAccountToResourceDirectory', {
          eventId: 'e1',
          requestParameters: { TargetEntity: MEMBER, TargetType: 'Account' },
        }),
      ),
      cloudEvent(
        record('AcceptHandshake', {
          eventId: 'e2',
          userIdentity: { type: 'root-account', accountId: MEMBER, principalId: MEMBER },
        }),
      ),
      cloudEvent(record('DescribeRegions', { eventId: 'e3' })),
      cloudEvent(
        record('MoveAccount', {
          eventId: 'e4',
          requestParameters: { AccountId: MEMBER, DestinationFolderId: 'fd-1' },
        }),
      ),
    ];
    const decoded = decodeDirectoryEvents(JSON.stringify(batch));
    expect(decoded.map((e) => [e.eventId, e.kind, e.eventName])).toEqual([
      ['e1', 'change', 'InviteAccountToResourceDirectory'],
      ['e2', 'change', 'AcceptHandshake'],
      ['e3', 'skipped', 'DescribeRegions'],
      ['e4', 'change', 'MoveAccount'],
    ]);
  });

  it('skips a failed call: the directory did not change', () => {
    const event = cloudEvent(
      record('RemoveCloudAccount', {
        requestParameters: { AccountId: MEMBER },
        errorCode: 'Deny.DelegatedAdministrator',
        errorMessage: 'The account is a delegated administrator.',
      }),
    );
    const decoded = only(decodeDirectoryEvents(event));
    expect(decoded.kind).toBe('skipped');
    expect(decoded).toMatchObject({ eventName: 'RemoveCloudAccount' });
    if (decoded.kind === 'skipped') {
      expect(decoded.reason).toContain('Deny.DelegatedAdministrator');
      expect(decoded.reason).toContain('delegated administrator');
    }
  });

  it('treats an empty errorCode as success', () => {
    const event = cloudEvent(
      record('MoveAccount', { requestParameters: { AccountId: MEMBER }, errorCode: '' }),
    );
    expect(only(decodeDirectoryEvents(event)).kind).toBe('change');
  });

  it('skips other API calls, naming them', () => {
    const decoded = only(
      decodeDirectoryEvents(cloudEvent(record('CreateFolder', { requestParameters: {} }))),
    );
    expect(decoded).toMatchObject({ kind: 'skipped', eventName: 'CreateFolder' });
    if (decoded.kind === 'skipped') expect(decoded.reason).toContain('CreateFolder');
  });

  it('matches event names exactly (case matters, as ActionTrail prints them)', () => {
    const decoded = only(decodeDirectoryEvents(cloudEvent(record('moveaccount'))));
    expect(decoded.kind).toBe('skipped');
  });

  it('skips a CloudEvent that carries no ActionTrail record', () => {
    for (const data of [undefined, 'not json', { something: 'else' }, [1, 2]]) {
      const decoded = only(
        decodeDirectoryEvents(cloudEvent(data, { type: 'ecs:Instance:StateChange' })),
      );
      expect(decoded).toMatchObject({ kind: 'skipped', eventId: 'ce-7f3c1a2b', eventName: '' });
      if (decoded.kind === 'skipped') expect(decoded.reason).toContain('ecs:Instance:StateChange');
    }
  });

  it('throws MalformedTriggerEvent for a payload that is not CloudEvents', () => {
    const cases: Array<[unknown, RegExp]> = [
      ['{not json', /not JSON/],
      [Buffer.from('<xml/>'), /not JSON/],
      [[], /non-empty array/],
      [{ eventName: 'MoveAccount' }, /not a CloudEvent/],
      [42, /not a CloudEvent/],
      [null, /not a CloudEvent/],
      [[cloudEvent(record('MoveAccount')), { id: 'x' }], /not a CloudEvent/],
    ];
    for (const [payload, message] of cases) {
      expect(() => decodeDirectoryEvents(payload)).toThrow(MalformedTriggerEvent);
      expect(() => decodeDirectoryEvents(payload)).toThrow(message);
    }
  });
});

describe('decodeDirectoryEvents: where each account id may sit, and what is not one', () => {
  const ids = (data: unknown, overrides: Record<string, unknown> = {}) => {
    const decoded = only(decodeDirectoryEvents(cloudEvent(data, overrides)));
    if (decoded.kind !== 'change') throw new Error(`skipped: ${decoded.reason}`);
    return decoded.accountIds;
  };

  it('CreateResourceAccount: the account id may sit directly in responseElements', () => {
    expect(
      ids(record('CreateResourceAccount', { responseElements: { AccountId: OTHER } })),
    ).toEqual([OTHER]);
  });

  it('InviteAccountToResourceDirectory: from the request, or from the handshake answered', () => {
    expect(
      ids(
        record('InviteAccountToResourceDirectory', { requestParameters: { TargetEntity: OTHER } }),
      ),
    ).toEqual([OTHER]);
    expect(
      ids(
        record('InviteAccountToResourceDirectory', {
          requestParameters: { TargetEntity: 'someone@example.com', TargetType: 'Email' },
          responseElements: { Handshake: handshake('Pending') },
        }),
      ),
    ).toEqual([MEMBER]);
  });

  it('AcceptHandshake: from the handshake when the caller is not named by an id', () => {
    expect(
      ids(
        record('AcceptHandshake', {
          userIdentity: { type: 'root-account' },
          responseElements: { Handshake: handshake('Accepted') },
        }),
      ),
    ).toEqual([MEMBER]);
  });

  it('an exact parameter name wins over one differing in case', () => {
    expect(
      ids(record('MoveAccount', { requestParameters: { accountid: 'junk', AccountId: MEMBER } })),
    ).toEqual([MEMBER]);
  });

  it('trims ids, names and JSON text; blank ones count as absent', () => {
    expect(ids(record('MoveAccount', { requestParameters: { AccountId: ` ${MEMBER} ` } }))).toEqual(
      [MEMBER],
    );
    expect(
      ids(
        record('MoveAccount', { requestParameters: `  ${JSON.stringify({ AccountId: MEMBER })}` }),
      ),
    ).toEqual([MEMBER]);
    const spaced = only(
      decodeDirectoryEvents(
        cloudEvent(record(' MoveAccount ', { requestParameters: { AccountId: MEMBER } })),
      ),
    );
    expect(spaced).toMatchObject({ kind: 'change', eventName: 'MoveAccount' });
    const blankName = only(decodeDirectoryEvents(cloudEvent(record('   '))));
    expect(blankName).toMatchObject({ kind: 'skipped', eventName: '' });
    const blankError = only(
      decodeDirectoryEvents(
        cloudEvent(
          record('MoveAccount', { requestParameters: { AccountId: MEMBER }, errorCode: '  ' }),
        ),
      ),
    );
    expect(blankError.kind).toBe('change');
    const blankId = only(
      decodeDirectoryEvents(cloudEvent(record('MoveAccount', { eventId: '  ' }), { id: 'ce-1' })),
    );
    expect(blankId.eventId).toBe('ce-1');
  });

  it('numbers are account ids only when they are whole, safe and not negative', () => {
    const numeric = (value: number) =>
      ids(record('DeleteAccount', { requestParameters: { AccountId: value } }));
    expect(numeric(0)).toEqual(['0']);
    expect(numeric(1_600_000_000_000_007)).toEqual([OTHER]);
    expect(numeric(-5)).toEqual([]);
    expect(numeric(1.5)).toEqual([]);
    expect(numeric(1e20)).toEqual([]);
    expect(numeric(Number.NaN)).toEqual([]);
  });

  it('a failed call without a message still says which error, and an event without time has none', () => {
    const failed = only(
      decodeDirectoryEvents(cloudEvent(record('MoveAccount', { errorCode: 'Throttling' }))),
    );
    expect(failed).toEqual({
      kind: 'skipped',
      eventId: 'AT-MoveAccount-0001',
      eventName: 'MoveAccount',
      reason: 'MoveAccount failed (Throttling); the directory did not change',
    });
    const data = record('MoveAccount', { requestParameters: { AccountId: MEMBER } }) as Record<
      string,
      unknown
    >;
    delete data.eventTime;
    expect(only(decodeDirectoryEvents(cloudEvent(data, { time: undefined })))).toStrictEqual({
      kind: 'change',
      eventId: 'AT-MoveAccount-0001',
      eventName: 'MoveAccount',
      accountIds: [MEMBER],
    });
  });
});

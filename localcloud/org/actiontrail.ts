// The ActionTrail API-call events that the directory changes made through the test controls
// would cause in the cloud, as EventBridge delivers them: a CloudEvent with source
// `acs.resourcemanager`, type `resourcemanager:ActionTrail:ApiCall` and the ActionTrail record
// as `data` (eventId, eventName, eventTime, userIdentity of the caller, requestParameters,
// responseElements, errorCode/errorMessage for a failed call, ...). Each event gets a unique id
// and localcloud's clock time; the log keeps them in order with a sequence number, bounded.
//
// Which calls a control stands for (mirroring Resource Directory):
//   create member (ResourceAccount)  CreateResourceAccount, by the management account
//   create member (CloudAccount)     CreateCloudAccount, by the management account
//   invite member                    InviteAccountToResourceDirectory by the management account,
//                                    AcceptHandshake by the invitee; the invitee joins under Root,
//                                    so a folder other than Root adds a MoveAccount
//   move member                      MoveAccount, by the management account
//   remove member                    DeleteAccount for a resource account, RemoveCloudAccount for
//                                    a cloud account (invited or created), by the management account
// A move or removal the directory refuses is recorded as the failed call, with errorCode.

import { randomUUID } from 'node:crypto';
import { isoSeconds } from '../core/clock';
import { popRequestId, randomBase62 } from '../core/ids';
import type { Account, Organization } from './organization';

export const ACTIONTRAIL_SOURCE = 'acs.resourcemanager';
export const ACTIONTRAIL_API_CALL_TYPE = 'resourcemanager:ActionTrail:ApiCall';
const EVENT_SOURCE = 'resourcemanager.aliyuncs.com';
const API_VERSION = '2020-03-31';
const USER_AGENT = 'localcloud-control';
const SOURCE_IP = '127.0.0.1';
const HANDSHAKE_LIFETIME_MS = 14 * 86_400_000;

export interface ActionTrailUserIdentity {
  type: 'ram-user';
  accountId: string;
  principalId: string;
  userName: string;
  accessKeyId: string;
}

/** The ActionTrail record of one API call (the CloudEvent's `data`). */
export interface ActionTrailRecord {
  eventId: string;
  eventVersion: 1;
  eventType: 'ApiCall';
  eventRW: 'Write';
  eventCategory: 'Management';
  eventName: string;
  eventSource: string;
  serviceName: 'ResourceManager';
  apiVersion: string;
  acsRegion: string;
  isGlobal: true;
  eventTime: string;
  requestId: string;
  sourceIpAddress: string;
  userAgent: string;
  userIdentity: ActionTrailUserIdentity;
  recipientAccountId: string;
  requestParameters: Record<string, unknown>;
  responseElements?: Record<string, unknown>;
  referencedResources?: Record<string, string[]>;
  errorCode?: string;
  errorMessage?: string;
}

/** An EventBridge CloudEvent (the default delivery's single-object form). */
export interface ActionTrailCloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json;charset=utf-8';
  aliyunaccountid: string;
  aliyunpublishtime: string;
  aliyuneventbusname: 'default';
  aliyunregionid: string;
  data: ActionTrailRecord;
}

export interface ActionTrailEntry {
  seq: number;
  event: ActionTrailCloudEvent;
}

export type ActionTrailListener = (event: ActionTrailCloudEvent) => void;

interface Call {
  eventName: string;
  caller: Account;
  requestParameters: Record<string, unknown>;
  responseElements?: Record<string, unknown>;
  /** The resource the call is about (subject of the CloudEvent). */
  resource: string;
  accountIds?: string[];
  error?: { code: string; message: string };
}

export class ActionTrailLog {
  private entries: ActionTrailEntry[] = [];
  private seq = 0;
  private readonly listeners = new Set<ActionTrailListener>();

  constructor(
    private readonly organization: Organization,
    private readonly now: () => number,
    private readonly capacity = 10_000,
    private readonly onListenerError: (error: unknown) => void = (error) =>
      console.error('localcloud: an ActionTrail event listener failed:', error),
  ) {}

  /** Entries with seq greater than `since` (all when absent), oldest first. */
  list(since?: number): ActionTrailEntry[] {
    return since === undefined ? [...this.entries] : this.entries.filter((e) => e.seq > since);
  }

  /** Forgets recorded events; sequence numbers keep growing. */
  clear(): void {
    this.entries = [];
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** Calls `listener` with every event recorded from now on; returns the unsubscribe. */
  onEvent(listener: ActionTrailListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  // -- the controls' calls ---------------------------------------------------------------------

  /** After a member was created (CreateResourceAccount or CreateCloudAccount). */
  memberCreated(account: Account): void {
    const management = this.organization.management;
    const resourceAccount = account.type === 'ResourceAccount';
    this.record({
      eventName: resourceAccount ? 'CreateResourceAccount' : 'CreateCloudAccount',
      caller: management,
      requestParameters: {
        DisplayName: account.displayName,
        ParentFolderId: account.folderId,
        ...(resourceAccount
          ? { AccountNamePrefix: account.accountName.split('@')[0] ?? account.name }
          : { Email: account.accountName }),
      },
      responseElements: { Account: this.accountView(account) },
      resource: account.id,
      accountIds: [account.id],
    });
  }

  /** After an account joined by invitation: the invitation, its acceptance, and the move into
   *  the requested folder when that is not Root. */
  memberInvited(account: Account): void {
    const management = this.organization.management;
    const created = this.now();
    const handshakeId = `h-${randomBase62(16)}`;
    const handshake = (status: 'Pending' | 'Accepted') => ({
      HandshakeId: handshakeId,
      ResourceDirectoryId: this.organization.resourceDirectoryId,
      MasterAccountId: management.id,
      MasterAccountName: management.accountName,
      TargetEntity: account.id,
      TargetType: 'Account',
      Status: status,
      CreateTime: isoSeconds(created),
      ModifyTime: isoSeconds(this.now()),
      ExpireTime: isoSeconds(created + HANDSHAKE_LIFETIME_MS),
    });
    this.record({
      eventName: 'InviteAccountToResourceDirectory',
      caller: management,
      requestParameters: { TargetEntity: account.id, TargetType: 'Account' },
      responseElements: { Handshake: handshake('Pending') },
      resource: handshakeId,
      accountIds: [account.id],
    });
    this.record({
      eventName: 'AcceptHandshake',
      caller: account,
      requestParameters: { HandshakeId: handshakeId },
      responseElements: { Handshake: handshake('Accepted') },
      resource: handshakeId,
      accountIds: [account.id],
    });
    if (account.folderId !== this.organization.rootFolderId) {
      this.memberMoved(account.id, account.folderId);
    }
  }

  memberMoved(accountId: string, destinationFolderId: string, error?: unknown): void {
    this.record({
      eventName: 'MoveAccount',
      caller: this.organization.management,
      requestParameters: { AccountId: accountId, DestinationFolderId: destinationFolderId },
      resource: accountId,
      accountIds: [accountId],
      ...failure(error),
    });
  }

  /** After (or on refusal of) a removal. The account's type decides the API: a resource account
   *  is deleted, a cloud account is removed. Unknown accounts count as cloud accounts. */
  memberRemoved(accountId: string, error?: unknown): void {
    const account = this.organization.accounts.get(accountId);
    this.record({
      eventName: account?.type === 'ResourceAccount' ? 'DeleteAccount' : 'RemoveCloudAccount',
      caller: this.organization.management,
      requestParameters: { AccountId: accountId },
      resource: accountId,
      accountIds: [accountId],
      ...failure(error),
    });
  }

  // -- building --------------------------------------------------------------------------------

  private accountView(account: Account): Record<string, unknown> {
    return {
      AccountId: account.id,
      AccountName: account.accountName,
      DisplayName: account.displayName,
      FolderId: account.folderId,
      ResourceDirectoryId: this.organization.resourceDirectoryId,
      ResourceDirectoryPath: this.organization.accountPath(account),
      JoinMethod: account.joinMethod,
      JoinTime: account.joinTime,
      ModifyTime: account.modifyTime,
      Status: account.status,
      Type: account.type,
    };
  }

  private record(call: Call): ActionTrailCloudEvent {
    const time = isoSeconds(this.now());
    const region = this.organization.region;
    const requestId = popRequestId();
    const data: ActionTrailRecord = {
      eventId: randomUUID(),
      eventVersion: 1,
      eventType: 'ApiCall',
      eventRW: 'Write',
      eventCategory: 'Management',
      eventName: call.eventName,
      eventSource: EVENT_SOURCE,
      serviceName: 'ResourceManager',
      apiVersion: API_VERSION,
      acsRegion: region,
      isGlobal: true,
      eventTime: time,
      requestId,
      sourceIpAddress: SOURCE_IP,
      userAgent: USER_AGENT,
      userIdentity: {
        type: 'ram-user',
        accountId: call.caller.id,
        principalId: call.caller.admin.userId,
        userName: call.caller.admin.userName,
        accessKeyId: call.caller.admin.keys.accessKeyId,
      },
      recipientAccountId: call.caller.id,
      requestParameters: {
        ...call.requestParameters,
        RegionId: region,
        AcsProduct: 'ResourceManager',
        RequestId: requestId,
      },
      ...(call.error
        ? { errorCode: call.error.code, errorMessage: call.error.message }
        : { responseElements: { RequestId: requestId, ...call.responseElements } }),
      ...(call.accountIds && call.accountIds.length > 0
        ? { referencedResources: { 'ACS::ResourceManager::Account': [...call.accountIds] } }
        : {}),
    };
    const event: ActionTrailCloudEvent = {
      specversion: '1.0',
      id: randomUUID(),
      source: ACTIONTRAIL_SOURCE,
      type: ACTIONTRAIL_API_CALL_TYPE,
      subject: `${ACTIONTRAIL_SOURCE}:${region}:${call.caller.id}:${call.resource}`,
      time,
      datacontenttype: 'application/json;charset=utf-8',
      // ActionTrail events reach the event bus of the account that made the call.
      aliyunaccountid: call.caller.id,
      aliyunpublishtime: new Date(this.now()).toISOString(),
      aliyuneventbusname: 'default',
      aliyunregionid: region,
      data,
    };
    this.entries.push({ seq: ++this.seq, event });
    if (this.entries.length > this.capacity) {
      this.entries.splice(0, this.entries.length - this.capacity);
    }
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error);
      }
    }
    return event;
  }
}

function failure(error: unknown): Pick<Call, 'error'> {
  if (error === undefined) return {};
  const fields = error as { code?: unknown; message?: unknown };
  return {
    error: {
      code: typeof fields.code === 'string' ? fields.code : 'InternalError',
      message: typeof fields.message === 'string' ? fields.message : String(error),
    },
  };
}

// Resource Directory changes as EventBridge delivers them: CloudEvents whose `data` is an
// ActionTrail API-call record (source `acs.resourcemanager`, type
// `resourcemanager:ActionTrail:ApiCall`). Decodes each into the member accounts it concerns.
// Pure: no I/O. Where an account id sits per API (Resource Manager API reference, ActionTrail
// management event structure):
//   CreateResourceAccount, CreateCloudAccount   responseElements.Account.AccountId
//   InviteAccountToResourceDirectory            requestParameters.TargetEntity (an account id, or
//                                               an email when TargetType is Email), and
//                                               responseElements.Handshake.TargetEntity
//   AcceptHandshake                             the caller is the invitee: userIdentity.accountId
//                                               (and responseElements.Handshake.TargetEntity)
//   MoveAccount, RemoveCloudAccount, DeleteAccount  requestParameters.AccountId
// ActionTrail's record layout per API is not documented field by field, so the decoder is
// tolerant: `data`, requestParameters and responseElements may be JSON text, parameter names
// are matched case-insensitively, ids may be numbers, and anything that is not an account id
// (an email, a name) is ignored. An event whose record names no account is still a change: the
// caller then reconciles the whole directory.

import { type CloudEvent, decodeCloudEvents } from '../runtime/trigger-events';

export const DIRECTORY_EVENT_NAMES = [
  'CreateResourceAccount',
  'CreateCloudAccount',
  'InviteAccountToResourceDirectory',
  'AcceptHandshake',
  'MoveAccount',
  'RemoveCloudAccount',
  'DeleteAccount',
] as const;

export type DirectoryEventName = (typeof DIRECTORY_EVENT_NAMES)[number];

export type DirectoryEvent =
  | {
      kind: 'change';
      eventId: string;
      eventName: DirectoryEventName;
      /** member account ids the change concerns; empty when the record does not say (the caller then reconciles everything) */
      accountIds: string[];
      time?: string;
    }
  | { kind: 'skipped'; eventId: string; eventName: string; reason: string };

const ACCOUNT_ID = /^\d{1,32}$/;

type Fields = Record<string, unknown>;

function isRecord(value: unknown): value is Fields {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** An object, or JSON text of an object (ActionTrail sometimes stringifies nested fields). */
function asRecord(value: unknown): Fields | undefined {
  if (isRecord(value)) return value;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (!text.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** A field by name, ignoring case (`AccountId`, `accountId`, `accountid`). */
function field(record: Fields | undefined, name: string): unknown {
  if (!record) return undefined;
  if (name in record) return record[name];
  const lower = name.toLowerCase();
  const key = Object.keys(record).find((candidate) => candidate.toLowerCase() === lower);
  return key === undefined ? undefined : record[key];
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** An account id as a digit string, or undefined for anything else (emails, names, objects). */
function accountId(value: unknown): string | undefined {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? String(value) : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  return ACCOUNT_ID.test(text) ? text : undefined;
}

function isDirectoryEventName(name: string): name is DirectoryEventName {
  return (DIRECTORY_EVENT_NAMES as readonly string[]).includes(name);
}

function accountIdsOf(eventName: DirectoryEventName, record: Fields): string[] {
  const request = asRecord(field(record, 'requestParameters'));
  const response = asRecord(field(record, 'responseElements'));
  const identity = asRecord(field(record, 'userIdentity'));
  const candidates: unknown[] = [];
  switch (eventName) {
    case 'CreateResourceAccount':
    case 'CreateCloudAccount':
      candidates.push(
        field(asRecord(field(response, 'Account')), 'AccountId'),
        field(response, 'AccountId'),
      );
      break;
    case 'InviteAccountToResourceDirectory':
      candidates.push(
        field(request, 'TargetEntity'),
        field(asRecord(field(response, 'Handshake')), 'TargetEntity'),
      );
      break;
    case 'AcceptHandshake':
      candidates.push(
        field(identity, 'accountId'),
        field(asRecord(field(response, 'Handshake')), 'TargetEntity'),
      );
      break;
    case 'MoveAccount':
    case 'RemoveCloudAccount':
    case 'DeleteAccount':
      candidates.push(field(request, 'AccountId'));
      break;
  }
  // Some records list the accounts they touched as referenced resources.
  const referenced = field(
    asRecord(field(record, 'referencedResources')),
    'ACS::ResourceManager::Account',
  );
  if (Array.isArray(referenced)) candidates.push(...referenced);
  const ids: string[] = [];
  for (const candidate of candidates) {
    const id = accountId(candidate);
    if (id !== undefined && !ids.includes(id)) ids.push(id);
  }
  return ids;
}

function decodeOne(event: CloudEvent): DirectoryEvent {
  const record = asRecord(event.data);
  const eventId = nonEmptyString(field(record, 'eventId')) ?? event.id;
  const eventName = nonEmptyString(field(record, 'eventName'));
  if (!record || eventName === undefined) {
    return {
      kind: 'skipped',
      eventId,
      eventName: eventName ?? '',
      reason: `CloudEvent ${event.id} (type ${event.type}) carries no ActionTrail record with an eventName`,
    };
  }
  if (!isDirectoryEventName(eventName)) {
    return {
      kind: 'skipped',
      eventId,
      eventName,
      reason: `${eventName} is not a Resource Directory membership change`,
    };
  }
  const errorCode = nonEmptyString(field(record, 'errorCode'));
  if (errorCode !== undefined) {
    const errorMessage = nonEmptyString(field(record, 'errorMessage'));
    return {
      kind: 'skipped',
      eventId,
      eventName,
      reason: `${eventName} failed (${errorCode}${errorMessage ? `: ${errorMessage}` : ''}); the directory did not change`,
    };
  }
  const time = nonEmptyString(field(record, 'eventTime')) ?? nonEmptyString(event.time);
  return {
    kind: 'change',
    eventId,
    eventName,
    accountIds: accountIdsOf(eventName, record),
    ...(time !== undefined ? { time } : {}),
  };
}

/**
 * Decodes what FC hands an EventBridge-triggered function (a Buffer, string, object or array of
 * CloudEvents) into one DirectoryEvent per CloudEvent, in order. Throws MalformedTriggerEvent
 * when the payload is not CloudEvents at all.
 */
export function decodeDirectoryEvents(event: unknown): DirectoryEvent[] {
  return decodeCloudEvents(event).map(decodeOne);
}

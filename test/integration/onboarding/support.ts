// The management-scope use cases built from the production adapters against a localcloud started
// by the test (as shared/wiring/membership.ts builds them in a function, but with the management
// account's admin keys): the ResourceManager directory source, STS member access, a Tablestore
// store in an instance of its own. Plus what the convergence test needs around them: restoring a
// recorded state into a fresh store, reading a store's state in a comparable form, a seeded PRNG
// and random delivery plans for directory events.

import {
  type ActionTrailCloudEvent,
  type EnvAccount,
  type LocalCloud,
  type OrganizationFixture,
  startLocalCloud,
} from '../../../localcloud/index';
import { createResourceManagerDirectory } from '../../../shared/cloud/resourcemanager/directory-source';
import {
  createMemberCredentialCache,
  createStsAssumeRole,
  MemberAccess,
  memberProbe,
} from '../../../shared/cloud/sts';
import { createTablestoreClient } from '../../../shared/cloud/tablestore';
import type { DirectorySource } from '../../../shared/directory/ports';
import { type EventOutcome, handleDirectoryEvents } from '../../../shared/onboarding/handlers';
import { Membership } from '../../../shared/onboarding/membership';
import type { ManagedMember, Scope } from '../../../shared/onboarding/model';
import { OnboardingRuns, onboardingWorkSchema } from '../../../shared/onboarding/runs';
import { silentLogger } from '../../../shared/runtime/logger';
import { createStore, ensureStoreTables, type Store } from '../../../shared/store';
import { InlineFanOut } from '../../support/inline-fan-out';
import { memberId, testOrganization } from '../../support/organization';

export const ACCESS_ROLE = 'ResourceDirectoryAccountAccessRole';

/**
 * testOrganization's tree (Production/Retail/Web, Sandbox, members in Root) plus a Staging folder
 * and three more members: one in Staging, and two without the member access role (one in
 * Sandbox, one in Staging).
 */
export function convergenceOrganization(members: number): OrganizationFixture {
  const base = testOrganization({ members });
  return {
    ...base,
    seed: 'rd-governance-membership-convergence',
    folders: [...(base.folders ?? []), { name: 'Staging' }],
    members: [
      ...base.members,
      { name: 'staging-one', id: memberId(members), folder: 'Staging' },
      {
        name: 'sandbox-no-role',
        id: memberId(members + 1),
        folder: 'Sandbox',
        withoutAccessRole: true,
      },
      {
        name: 'staging-no-role',
        id: memberId(members + 2),
        folder: 'Staging',
        withoutAccessRole: true,
      },
    ],
  };
}

export interface ConvergenceCloud {
  cloud: LocalCloud;
  management: EnvAccount;
  directory: DirectorySource;
  /** Folder id by path of names below Root (`Production/Retail`). */
  folderId(path: string): string;
  /** A store in a fresh Tablestore instance of the management account, tables created. */
  freshStore(): Promise<LocalStore>;
  /** The use cases over `store`. Member credentials are cached across stores, as a warm
   *  function instance keeps them (refusals are not cached). `waitMs`: how long a change waits
   *  for the membership lease (default 20 s, as deployed). */
  membership(store: Store, options?: { waitMs?: number }): Membership;
  /** Onboarding runs over `store`, their worker invocations queued for the test to run. */
  runs(store: Store, options?: { chunkSize?: number; lanes?: number }): LocalRuns;
  stop(): Promise<void>;
}

export interface LocalRuns {
  runs: OnboardingRuns;
  fanOut: InlineFanOut;
  /** One worker invocation, as the onboarding worker runs it. */
  work(payload: unknown): Promise<unknown>;
  /** Runs the queued invocations (and those they queue) until none is left. */
  settle(): Promise<void>;
}

export interface LocalStore {
  store: Store;
  /** Deletes the instance (an instance holds at most 64 tables; each store uses its own). */
  dispose(): void;
}

export async function startConvergenceCloud(
  organization: OrganizationFixture,
): Promise<ConvergenceCloud> {
  const cloud = await startLocalCloud({ port: 0, organization });
  const found = cloud.env.accounts.find((a) => a.kind === 'management');
  if (!found) throw new Error('localcloud published no management account');
  const management = found;
  const credentials = {
    accessKeyId: management.accessKeyId,
    accessKeySecret: management.accessKeySecret,
  };
  const directory = createResourceManagerDirectory({
    endpoint: cloud.env.endpoints.resourcemanager,
    protocol: 'http',
    credentials,
    accountId: management.id,
  });
  const credentialCache = createMemberCredentialCache();
  const assumeRole = createStsAssumeRole({
    endpoint: cloud.env.endpoints.sts,
    protocol: 'http',
    credentials,
    callerAccountId: management.id,
  });
  let instances = 0;
  function membership(store: Store, options: { waitMs?: number } = {}): Membership {
    const access = new MemberAccess({
      roleName: ACCESS_ROLE,
      cache: credentialCache,
      sessionName: 'convergence-test',
      assumeRole,
    });
    return new Membership({
      store,
      directory,
      probe: memberProbe(access),
      settings: { callerAccountId: management.id, memberAccessRole: ACCESS_ROLE },
      logger: silentLogger,
      ...(options.waitMs !== undefined ? { lease: { waitMs: options.waitMs } } : {}),
    });
  }
  return {
    cloud,
    management,
    directory,
    folderId(path) {
      const folder = cloud.organization.snapshot().folders.find((f) => f.path === `Root/${path}`);
      if (!folder) throw new Error(`no folder Root/${path}`);
      return folder.id;
    },
    async freshStore() {
      // Nothing here reads localcloud's call log; once full (20,000 calls) it trims its front
      // on every call, which a hundred runs would otherwise pay for.
      cloud.control.clearCalls();
      instances += 1;
      const instanceName = `conv${instances}`;
      cloud.tablestore.createInstance(management.id, instanceName);
      const client = createTablestoreClient({
        endpoint: cloud.url,
        instanceName,
        credentials: () => credentials,
      });
      await ensureStoreTables(client);
      return {
        store: createStore({ client }),
        dispose: () => cloud.tablestore.deleteInstance(management.id, instanceName),
      };
    },
    membership,
    runs(store, options = {}) {
      const fanOut = new InlineFanOut();
      const runs = new OnboardingRuns({
        membership: membership(store),
        store,
        fanOut,
        workerFunction: 'rdgov-onboarding-worker',
        assumeRoleRate: 95,
        startWaitMs: 0,
        logger: silentLogger,
        ...(options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {}),
        ...(options.lanes !== undefined ? { lanes: options.lanes } : {}),
      });
      const work = (payload: unknown) => runs.work(onboardingWorkSchema.parse(payload));
      return {
        runs,
        fanOut,
        work,
        async settle() {
          await fanOut.drain(work);
        },
      };
    },
    stop: () => cloud.stop(),
  };
}

/** The scopes and member records of a store, as read. */
export interface RecordedState {
  scopes: Scope[];
  members: ManagedMember[];
}

export async function recordState(store: Store): Promise<RecordedState> {
  const [scopes, members] = await Promise.all([store.scopes.list(), store.members.list()]);
  return { scopes, members };
}

/** Writes `state` into an empty store (versions and timestamps start afresh). */
export async function restoreState(store: Store, state: RecordedState): Promise<void> {
  await Promise.all(
    state.scopes.map(({ version: _v, createdAt: _c, updatedAt: _u, ...scope }) =>
      store.scopes.create(scope),
    ),
  );
  await Promise.all(
    state.members.map(({ version: _v, createdAt: _c, updatedAt: _u, ...member }) =>
      store.members.create(member),
    ),
  );
}

/** What a member record says, without what differs between equal runs (versions, times). */
export interface MemberState {
  accountId: string;
  status: string;
  scopeIds: string[];
  folderId: string | undefined;
  folderPath: string[];
  joinMethod: string | undefined;
  displayName: string | undefined;
  failureCode: string | undefined;
}

export function memberState(member: ManagedMember): MemberState {
  return {
    accountId: member.accountId,
    status: member.status,
    scopeIds: [...member.scopeIds],
    folderId: member.folderId,
    folderPath: (member.folderPath ?? []).map((f) => `${f.id}:${f.name}`),
    joinMethod: member.joinMethod,
    displayName: member.displayName,
    failureCode: member.failure ? (member.failure.code ?? '(no code)') : undefined,
  };
}

export interface ComparableState {
  scopes: string[];
  members: MemberState[];
}

export async function comparableState(store: Store): Promise<ComparableState> {
  return comparable(await recordState(store));
}

export function comparable(state: RecordedState): ComparableState {
  return {
    scopes: state.scopes.map((s) => `${s.id} [${s.services.join(',')}]`).sort(),
    members: state.members
      .map(memberState)
      .sort((a, b) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0)),
  };
}

/** Delivers one EventBridge payload (a CloudEvent or an array of them) to the real handler. */
export function deliver(
  membership: Membership,
  store: Store,
  payload: ActionTrailCloudEvent | ActionTrailCloudEvent[],
): Promise<EventOutcome[]> {
  return handleDirectoryEvents(
    { membership, idempotency: store.idempotency, logger: silentLogger },
    structuredClone(payload),
  );
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness and delivery plans

function randomInt(random: () => number, low: number, high: number): number {
  return low + Math.floor(random() * (high - low + 1));
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(random, 0, i);
    const a = items[i] as T;
    items[i] = items[j] as T;
    items[j] = a;
  }
  return items;
}

/** Deliveries as event indexes: each inner array is one payload (length 1 = a single event). */
export type DeliveryPlan = number[][];

/**
 * Each of `count` events 1 to 3 times, all copies in the given order (`ordered`: 'random'
 * shuffles the copies together, so duplicates land at random positions; 'forward'/'reverse' keep
 * the recorded order or its reverse, copies next to each other); about one delivery in four
 * carries 2 to 4 consecutive copies as one array payload.
 */
export function deliveryPlan(
  count: number,
  random: () => number,
  order: 'random' | 'forward' | 'reverse' = 'random',
): DeliveryPlan {
  let copies: number[] = [];
  for (let i = 0; i < count; i++) {
    const times = randomInt(random, 1, 3);
    for (let k = 0; k < times; k++) copies.push(i);
  }
  if (order === 'random') copies = shuffle(copies, random);
  if (order === 'reverse') copies.reverse();
  const plan: DeliveryPlan = [];
  for (let i = 0; i < copies.length; ) {
    const size = random() < 0.25 ? randomInt(random, 2, 4) : 1;
    plan.push(copies.slice(i, i + size));
    i += size;
  }
  return plan;
}

/** `CreateResourceAccount(2000…)` per event, for failure messages. */
export function describeEvent(event: ActionTrailCloudEvent): string {
  const accounts = event.data.referencedResources?.['ACS::ResourceManager::Account'] ?? [];
  const failed = event.data.errorCode ? ` failed ${event.data.errorCode}` : '';
  return `${event.data.eventName}(${accounts.join(',')})${failed}`;
}

export function describePlan(plan: DeliveryPlan): string {
  return plan.map((payload) => (payload.length === 1 ? `${payload[0]}` : `[${payload}]`)).join(' ');
}

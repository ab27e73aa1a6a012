// The Resource Directory as localcloud holds it: folders, accounts (management and members),
// delegated administrators, each account's RAM roles and the AccessKeys of its root and of its
// RAM user `admin`. Pure state and rules; the services and the control plane change it through
// these methods, which throw OrganizationError with a code and a message naming what is wrong.

import { isoSeconds } from '../core/clock';
import { IdFactory } from '../core/ids';
import { parsePolicy } from '../core/policy';
import {
  type FolderFixture,
  type ParsedOrganizationFixture,
  parseOrganizationFixture,
  type RoleFixture,
} from './fixture';
import {
  findServiceLinkedRole,
  SERVICE_LINKED_ROLE_PATH,
  type ServiceLinkedRoleSpec,
  serviceLinkedTrustPolicy,
} from './service-linked-roles';

export const ACCESS_ROLE_NAME = 'ResourceDirectoryAccountAccessRole';
export const ADMIN_USER_NAME = 'admin';
export const DEFAULT_SERVICE_PRINCIPALS = ['fc.aliyuncs.com'];

export interface KeyPair {
  accessKeyId: string;
  accessKeySecret: string;
}

export interface Role {
  name: string;
  roleId: string;
  description: string;
  /** The trust policy document as JSON text. */
  trustPolicy: string;
  maxSessionDuration: number;
  path: string;
  /** Set for service-linked roles: the service that uses the role. */
  serviceName?: string;
  createDate: string;
  updateDate: string;
}

export type JoinMethod = 'created' | 'invited';
export type AccountType = 'CloudAccount' | 'ResourceAccount';

export interface Account {
  id: string;
  /** Short name from the fixture (`payments-prod`), also the DisplayName by default. */
  name: string;
  displayName: string;
  /** Login name as GetAccount reports it. */
  accountName: string;
  kind: 'management' | 'member';
  type: AccountType;
  joinMethod: JoinMethod;
  status: string;
  joinTime: string;
  modifyTime: string;
  folderId: string;
  /** False once removed from the directory: the account and its keys still exist. */
  inDirectory: boolean;
  tags: Array<{ key: string; value: string }>;
  roles: Map<string, Role>;
  root: KeyPair;
  admin: { userName: string; userId: string; keys: KeyPair };
}

export interface Folder {
  id: string;
  name: string;
  /** Undefined for Root. */
  parentId?: string;
  createTime: string;
}

export interface Delegation {
  accountId: string;
  servicePrincipal: string;
  enabledTime: string;
}

export interface DeletionTask {
  id: string;
  accountId: string;
  roleName: string;
  status: 'SUCCEEDED' | 'FAILED' | 'IN_PROGRESS' | 'NOT_STARTED';
  createDate: string;
}

export type KeyOwner =
  | { kind: 'root'; account: Account }
  | { kind: 'user'; account: Account }
  | { kind: 'service'; serviceName: string };

export class OrganizationError extends Error {
  override name = 'OrganizationError';
  constructor(
    readonly code: string,
    message: string,
    /** HTTP status the control plane and APIs answer with. */
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface NewRole {
  name: string;
  description?: string;
  trustPolicy?: string;
  /** Creates the service-linked role of this service instead (trust policy implied). */
  serviceName?: string;
  maxSessionDuration?: number;
}

const ROLE_NAME = /^[A-Za-z0-9.-]{1,64}$/;

function roleKey(name: string): string {
  return name.toLowerCase();
}

/** Plain-data view of the directory, for GET /__localcloud/organization and tests. */
export interface OrganizationSnapshot {
  resourceDirectoryId: string;
  rootFolderId: string;
  managementAccountId: string;
  folders: Array<Folder & { path: string }>;
  accounts: Array<{
    id: string;
    name: string;
    displayName: string;
    kind: 'management' | 'member';
    type: AccountType;
    joinMethod: JoinMethod;
    status: string;
    joinTime: string;
    folderId: string;
    inDirectory: boolean;
    roles: Array<{ name: string; serviceLinked: boolean; serviceName?: string }>;
  }>;
  delegatedAdministrators: Delegation[];
}

/** Saved form of an Organization's mutable state (`<dataDir>/organization.json`). */
export interface OrganizationState {
  format: 1;
  seed: string;
  resourceDirectoryId: string;
  counter: number;
  accounts: Array<Omit<Account, 'roles'> & { roles: Role[] }>;
  delegations: Delegation[];
  deletionTasks: DeletionTask[];
}

export class Organization {
  readonly ids: IdFactory;
  readonly region: string;
  readonly resourceDirectoryId: string;
  readonly rootFolderId: string;
  readonly createTime: string;
  readonly managementAccountId: string;
  readonly folders = new Map<string, Folder>();
  readonly accounts = new Map<string, Account>();
  readonly delegations: Delegation[] = [];
  readonly deletionTasks = new Map<string, DeletionTask>();
  readonly servicePrincipals = new Map<string, KeyPair>();
  private readonly keyOwners = new Map<string, KeyOwner>();
  private readonly listeners: Array<() => void> = [];
  private counter = 0;

  constructor(
    fixture: ParsedOrganizationFixture,
    private readonly now: () => number = Date.now,
  ) {
    this.ids = new IdFactory(fixture.seed);
    this.region = fixture.region;
    this.resourceDirectoryId = fixture.directory?.id ?? this.ids.directoryId('directory');
    this.rootFolderId = fixture.directory?.rootFolderId ?? this.ids.rootFolderId('root');
    this.createTime = fixture.directory?.createTime ?? '2023-01-05T02:00:00Z';
    this.folders.set(this.rootFolderId, {
      id: this.rootFolderId,
      name: 'Root',
      createTime: this.createTime,
    });
    for (const folder of fixture.folders ?? []) this.addFolderTree(folder, this.rootFolderId, '');

    const management = this.addAccount({
      id: fixture.management.id ?? this.ids.accountId(`management:${fixture.management.name}`),
      name: fixture.management.name,
      displayName: fixture.management.displayName ?? fixture.management.name,
      kind: 'management',
      type: 'CloudAccount',
      // The management account enabled the directory; RD lists it like an invited cloud account.
      joinMethod: 'invited',
      joinTime: this.createTime,
      folderId: this.rootFolderId,
    });
    this.managementAccountId = management.id;
    for (const role of fixture.management.roles ?? []) {
      this.addRole(management.id, this.roleFromFixture(role));
    }
    for (const service of fixture.management.serviceLinkedRoles ?? []) {
      this.addServiceLinkedRole(management.id, service);
    }

    const baseJoin = Date.parse(this.createTime);
    for (const [index, member] of fixture.members.entries()) {
      const type =
        member.type ?? (member.joinMethod === 'created' ? 'ResourceAccount' : 'CloudAccount');
      const account = this.addAccount({
        id: member.id ?? this.ids.accountId(`member:${member.name}`),
        name: member.name,
        displayName: member.displayName ?? member.name,
        kind: 'member',
        type,
        joinMethod: member.joinMethod,
        joinTime: member.joinTime ?? isoSeconds(baseJoin + (index + 1) * 86_400_000),
        folderId: this.resolveFolder(member.folder, `member ${member.name}`),
        tags: Object.entries(member.tags ?? {}).map(([key, value]) => ({ key, value })),
      });
      if (!member.withoutAccessRole) this.addAccessRole(account.id);
      for (const service of member.serviceLinkedRoles ?? []) {
        this.addServiceLinkedRole(account.id, service);
      }
      for (const role of member.roles ?? []) this.addRole(account.id, this.roleFromFixture(role));
    }

    for (const delegation of fixture.delegatedAdministrators ?? []) {
      const account = this.findAccount(delegation.account);
      if (account?.kind !== 'member') {
        throw new OrganizationError(
          'InvalidFixture',
          `delegated administrator ${delegation.account} is not a member of the directory`,
        );
      }
      for (const servicePrincipal of delegation.services) {
        this.delegations.push({
          accountId: account.id,
          servicePrincipal,
          enabledTime: account.joinTime,
        });
      }
    }

    for (const serviceName of fixture.servicePrincipals ?? DEFAULT_SERVICE_PRINCIPALS) {
      const keys = {
        accessKeyId: this.ids.accessKeyId(`service:${serviceName}`),
        accessKeySecret: this.ids.accessKeySecret(`service:${serviceName}`),
      };
      this.servicePrincipals.set(serviceName, keys);
      this.keyOwners.set(keys.accessKeyId, { kind: 'service', serviceName });
    }
  }

  static fromFixture(fixture: unknown, now?: () => number): Organization {
    return new Organization(parseOrganizationFixture(fixture), now);
  }

  /** Called after every change (the server persists and refreshes env.json). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  // -- lookups ---------------------------------------------------------------------------------

  get management(): Account {
    const account = this.accounts.get(this.managementAccountId);
    if (!account) throw new Error('the management account is missing');
    return account;
  }

  /** By id or fixture name. */
  findAccount(idOrName: string): Account | undefined {
    return (
      this.accounts.get(idOrName) ??
      [...this.accounts.values()].find((account) => account.name === idOrName)
    );
  }

  requireAccount(accountId: string): Account {
    const account = this.accounts.get(accountId);
    if (!account) {
      throw new OrganizationError(
        'EntityNotExists.Account',
        `account ${accountId} does not exist in localcloud`,
        404,
      );
    }
    return account;
  }

  /** Accounts in the directory, in join order (management first). */
  directoryAccounts(): Account[] {
    return [...this.accounts.values()].filter((account) => account.inDirectory);
  }

  keyOwner(accessKeyId: string): KeyOwner | undefined {
    return this.keyOwners.get(accessKeyId);
  }

  requireFolder(folderId: string): Folder {
    const folder = this.folders.get(folderId);
    if (!folder) {
      throw new OrganizationError(
        'EntityNotExists.Folder',
        `folder ${folderId} does not exist in resource directory ${this.resourceDirectoryId}`,
        404,
      );
    }
    return folder;
  }

  childFolders(parentId: string): Folder[] {
    return [...this.folders.values()].filter((folder) => folder.parentId === parentId);
  }

  /** Folder ids from Root down to `folderId`. */
  folderChain(folderId: string): string[] {
    const chain: string[] = [];
    let current: Folder | undefined = this.folders.get(folderId);
    while (current) {
      chain.unshift(current.id);
      current = current.parentId ? this.folders.get(current.parentId) : undefined;
    }
    return chain;
  }

  /** ResourceDirectoryPath as the RD API prints it: rd-xxx/r-xxx/fd-xxx[/accountId]. */
  folderPath(folderId: string): string {
    return [this.resourceDirectoryId, ...this.folderChain(folderId)].join('/');
  }

  accountPath(account: Account): string {
    return `${this.folderPath(account.folderId)}/${account.id}`;
  }

  delegationsOf(accountId: string): Delegation[] {
    return this.delegations.filter((delegation) => delegation.accountId === accountId);
  }

  isDelegatedAdministrator(accountId: string): boolean {
    return this.delegations.some((delegation) => delegation.accountId === accountId);
  }

  findRole(accountId: string, roleName: string): Role | undefined {
    return this.accounts.get(accountId)?.roles.get(roleKey(roleName));
  }

  roleArn(accountId: string, role: Role): string {
    const path = role.path === '/' ? '' : role.path.replace(/^\//, '');
    return `acs:ram::${accountId}:role/${path}${role.name.toLowerCase()}`;
  }

  // -- folders ---------------------------------------------------------------------------------

  private addFolderTree(fixture: FolderFixture, parentId: string, parentPath: string): void {
    const path = parentPath === '' ? fixture.name : `${parentPath}/${fixture.name}`;
    const id = fixture.id ?? this.ids.folderId(`folder:${path}`);
    if (this.folders.has(id)) {
      throw new OrganizationError('InvalidFixture', `folder id ${id} (${path}) is used twice`);
    }
    this.folders.set(id, { id, name: fixture.name, parentId, createTime: this.createTime });
    for (const child of fixture.children ?? []) this.addFolderTree(child, id, path);
  }

  /** A folder id, a path of names below Root (`Production/Retail`), or undefined = Root. */
  resolveFolder(reference: string | undefined, forWhat: string): string {
    if (reference === undefined || reference === '' || reference === 'Root')
      return this.rootFolderId;
    if (this.folders.has(reference)) return reference;
    let current = this.rootFolderId;
    for (const name of reference.split('/').filter((part) => part !== '')) {
      const next = this.childFolders(current).find((folder) => folder.name === name);
      if (!next) {
        throw new OrganizationError(
          'EntityNotExists.Folder',
          `folder "${reference}" for ${forWhat} does not exist (no "${name}" under ${this.requireFolder(current).name})`,
          404,
        );
      }
      current = next.id;
    }
    return current;
  }

  // -- accounts --------------------------------------------------------------------------------

  private addAccount(input: {
    id: string;
    name: string;
    displayName: string;
    kind: 'management' | 'member';
    type: AccountType;
    joinMethod: JoinMethod;
    joinTime: string;
    folderId: string;
    tags?: Array<{ key: string; value: string }>;
  }): Account {
    if (this.accounts.has(input.id)) {
      throw new OrganizationError(
        'EntityAlreadyExists.Account',
        `account id ${input.id} (${input.name}) is already in the directory`,
        409,
      );
    }
    if ([...this.accounts.values()].some((account) => account.name === input.name)) {
      throw new OrganizationError(
        'EntityAlreadyExists.Account',
        `an account named ${input.name} already exists; account names are unique in localcloud`,
        409,
      );
    }
    const account: Account = {
      ...input,
      accountName:
        input.type === 'ResourceAccount'
          ? `${input.name}@${this.resourceDirectoryId}.onaliyun.com`
          : `${input.name}@example.com`,
      status: input.joinMethod === 'created' ? 'CreateSuccess' : 'InviteSuccess',
      modifyTime: input.joinTime,
      inDirectory: true,
      tags: input.tags ?? [],
      roles: new Map(),
      root: {
        accessKeyId: this.ids.accessKeyId(`root:${input.id}`),
        accessKeySecret: this.ids.accessKeySecret(`root:${input.id}`),
      },
      admin: {
        userName: ADMIN_USER_NAME,
        userId: this.ids.userId(`admin:${input.id}`),
        keys: {
          accessKeyId: this.ids.accessKeyId(`admin:${input.id}`),
          accessKeySecret: this.ids.accessKeySecret(`admin:${input.id}`),
        },
      },
    };
    this.accounts.set(account.id, account);
    this.keyOwners.set(account.root.accessKeyId, { kind: 'root', account });
    this.keyOwners.set(account.admin.keys.accessKeyId, { kind: 'user', account });
    return account;
  }

  private newMemberId(name: string): string {
    let id = this.ids.accountId(`member:${name}`);
    while (this.accounts.has(id)) id = this.ids.accountId(`member:${name}#${++this.counter}`);
    return id;
  }

  /** CreateResourceAccount: a new resource account, with the access role. */
  createMember(input: {
    name: string;
    folderId?: string;
    type?: AccountType;
    displayName?: string;
  }): Account {
    const folderId = this.resolveFolder(input.folderId, `new member ${input.name}`);
    const account = this.addAccount({
      id: this.newMemberId(input.name),
      name: input.name,
      displayName: input.displayName ?? input.name,
      kind: 'member',
      type: input.type ?? 'ResourceAccount',
      joinMethod: 'created',
      joinTime: isoSeconds(this.now()),
      folderId,
    });
    this.addAccessRole(account.id);
    this.changed();
    return account;
  }

  /** InviteAccountToResourceDirectory + AcceptHandshake: an existing cloud account joins. */
  inviteMember(input: {
    name: string;
    folderId?: string;
    displayName?: string;
    id?: string;
  }): Account {
    const folderId = this.resolveFolder(input.folderId, `invited member ${input.name}`);
    const existing = input.id ? this.accounts.get(input.id) : undefined;
    if (existing) {
      if (existing.inDirectory) {
        throw new OrganizationError(
          'EntityAlreadyExists.Account',
          `account ${existing.id} (${existing.name}) is already in the directory`,
          409,
        );
      }
      existing.inDirectory = true;
      existing.joinMethod = 'invited';
      existing.status = 'InviteSuccess';
      existing.folderId = folderId;
      existing.joinTime = isoSeconds(this.now());
      existing.modifyTime = existing.joinTime;
      if (!existing.roles.has(roleKey(ACCESS_ROLE_NAME))) this.addAccessRole(existing.id);
      this.changed();
      return existing;
    }
    const account = this.addAccount({
      id: input.id ?? this.newMemberId(input.name),
      name: input.name,
      displayName: input.displayName ?? input.name,
      kind: 'member',
      type: 'CloudAccount',
      joinMethod: 'invited',
      joinTime: isoSeconds(this.now()),
      folderId,
    });
    // Accepting an invitation creates the access role in the invited account.
    this.addAccessRole(account.id);
    this.changed();
    return account;
  }

  moveMember(accountId: string, folderId: string): Account {
    const account = this.requireDirectoryMember(accountId);
    this.requireFolder(folderId);
    account.folderId = folderId;
    account.modifyTime = isoSeconds(this.now());
    this.changed();
    return account;
  }

  /** RemoveCloudAccount / DeleteAccount: the member leaves the directory (its keys keep working). */
  removeMember(accountId: string): Account {
    const account = this.requireDirectoryMember(accountId);
    if (this.isDelegatedAdministrator(accountId)) {
      throw new OrganizationError(
        'Deny.DelegatedAdministrator',
        `account ${accountId} (${account.name}) is a delegated administrator; deregister it first`,
        409,
      );
    }
    account.inDirectory = false;
    account.status = 'Removed';
    account.modifyTime = isoSeconds(this.now());
    this.changed();
    return account;
  }

  private requireDirectoryMember(accountId: string): Account {
    const account = this.requireAccount(accountId);
    if (account.kind === 'management') {
      throw new OrganizationError(
        'InvalidParameter.AccountId',
        `account ${accountId} is the management account, not a member`,
      );
    }
    if (!account.inDirectory) {
      throw new OrganizationError(
        'EntityNotExists.Account',
        `account ${accountId} (${account.name}) is not in the directory`,
        404,
      );
    }
    return account;
  }

  registerDelegatedAdministrator(accountId: string, servicePrincipal: string): Delegation {
    const account = this.requireDirectoryMember(accountId);
    if (
      this.delegations.some(
        (d) => d.accountId === account.id && d.servicePrincipal === servicePrincipal,
      )
    ) {
      throw new OrganizationError(
        'EntityAlreadyExists.DelegatedAdministrator',
        `account ${accountId} is already a delegated administrator of ${servicePrincipal}`,
        409,
      );
    }
    const delegation = { accountId, servicePrincipal, enabledTime: isoSeconds(this.now()) };
    this.delegations.push(delegation);
    this.changed();
    return delegation;
  }

  // -- roles -----------------------------------------------------------------------------------

  private roleFromFixture(role: RoleFixture): NewRole {
    let trustPolicy: string | undefined;
    if (typeof role.trustPolicy === 'string') trustPolicy = role.trustPolicy;
    else if (role.trustPolicy) trustPolicy = JSON.stringify(role.trustPolicy);
    else {
      const ram = (role.trustedPrincipals ?? []).map((principal) =>
        /^\d+$/.test(principal) ? `acs:ram::${principal}:root` : principal,
      );
      const principal: Record<string, string[]> = {};
      if (ram.length > 0) principal.RAM = ram;
      if (role.trustedServices && role.trustedServices.length > 0)
        principal.Service = role.trustedServices;
      trustPolicy = JSON.stringify({
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: principal }],
        Version: '1',
      });
    }
    return {
      name: role.name,
      trustPolicy,
      ...(role.description === undefined ? {} : { description: role.description }),
      ...(role.maxSessionDuration === undefined
        ? {}
        : { maxSessionDuration: role.maxSessionDuration }),
    };
  }

  private addAccessRole(accountId: string): Role {
    return this.addRole(accountId, {
      name: ACCESS_ROLE_NAME,
      description: 'Resource Directory account access role, trusted by the management account.',
      trustPolicy: JSON.stringify({
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { RAM: [`acs:ram::${this.managementAccountId}:root`] },
          },
        ],
        Version: '1',
      }),
    });
  }

  private addServiceLinkedRole(accountId: string, nameOrService: string): Role {
    const spec = findServiceLinkedRole(nameOrService);
    if (!spec) {
      throw new OrganizationError(
        'InvalidParameter.ServiceName',
        `no service-linked role is known for "${nameOrService}" (see localcloud/org/service-linked-roles.ts)`,
      );
    }
    return this.addRole(accountId, { name: spec.roleName, serviceName: spec.serviceName });
  }

  /** Adds a role; validates the name and trust policy as RAM CreateRole does. */
  addRole(accountId: string, input: NewRole): Role {
    const account = this.requireAccount(accountId);
    let spec: ServiceLinkedRoleSpec | undefined;
    if (input.serviceName !== undefined) {
      spec = findServiceLinkedRole(input.serviceName);
      if (!spec) {
        throw new OrganizationError(
          'InvalidParameter.ServiceName',
          `no service-linked role is known for service ${input.serviceName}`,
        );
      }
    }
    const name = spec?.roleName ?? input.name;
    if (!ROLE_NAME.test(name)) {
      throw new OrganizationError(
        'InvalidParameter.RoleName',
        `role name "${name}" must be 1 to 64 letters, digits, periods (.) or hyphens (-)`,
      );
    }
    if (account.roles.has(roleKey(name))) {
      throw new OrganizationError(
        'EntityAlreadyExists.Role',
        `The role already exists: ${name} (account ${accountId})`,
        409,
      );
    }
    const trustPolicy = spec ? serviceLinkedTrustPolicy(spec.serviceName) : input.trustPolicy;
    if (trustPolicy === undefined) {
      throw new OrganizationError(
        'MissingAssumeRolePolicyDocument',
        `role ${name} needs a trust policy (AssumeRolePolicyDocument) or a service name`,
      );
    }
    const parsed = parsePolicy(trustPolicy, 'trust');
    if (!parsed.ok) {
      throw new OrganizationError(
        'MalformedPolicyDocument',
        `trust policy of role ${name} is malformed: ${parsed.reason}`,
      );
    }
    const maxSessionDuration = input.maxSessionDuration ?? 3600;
    if (
      !Number.isInteger(maxSessionDuration) ||
      maxSessionDuration < 3600 ||
      maxSessionDuration > 43200
    ) {
      throw new OrganizationError(
        'InvalidParameter.MaxSessionDuration',
        `MaxSessionDuration of role ${name} must be 3600 to 43200 seconds, got ${maxSessionDuration}`,
      );
    }
    const created = isoSeconds(this.now());
    const role: Role = {
      name,
      roleId: this.ids.roleId(`${accountId}:${roleKey(name)}:${this.counter++}`),
      description: input.description ?? spec?.description ?? '',
      trustPolicy,
      maxSessionDuration,
      path: spec ? SERVICE_LINKED_ROLE_PATH : '/',
      ...(spec ? { serviceName: spec.serviceName } : {}),
      createDate: created,
      updateDate: created,
    };
    account.roles.set(roleKey(name), role);
    this.changed();
    return role;
  }

  deleteRole(accountId: string, roleName: string): Role {
    const account = this.requireAccount(accountId);
    const role = account.roles.get(roleKey(roleName));
    if (!role) {
      throw new OrganizationError(
        'EntityNotExist.Role',
        `The role not exists: ${roleName} (account ${accountId})`,
        404,
      );
    }
    account.roles.delete(roleKey(roleName));
    this.changed();
    return role;
  }

  setTrustPolicy(accountId: string, roleName: string, trustPolicy: string): Role {
    const role = this.findRole(accountId, roleName);
    if (!role) {
      throw new OrganizationError(
        'EntityNotExist.Role',
        `The role not exists: ${roleName} (account ${accountId})`,
        404,
      );
    }
    const parsed = parsePolicy(trustPolicy, 'trust');
    if (!parsed.ok) {
      throw new OrganizationError(
        'MalformedPolicyDocument',
        `trust policy of role ${roleName} is malformed: ${parsed.reason}`,
      );
    }
    role.trustPolicy = trustPolicy;
    role.updateDate = isoSeconds(this.now());
    this.changed();
    return role;
  }

  /** DeleteServiceLinkedRole: deletion runs at once here; the task records the outcome. */
  deleteServiceLinkedRole(accountId: string, roleName: string, taskSuffix: string): DeletionTask {
    const role = this.findRole(accountId, roleName);
    if (!role) {
      throw new OrganizationError('EntityNotExist.Role', `The role not exists: ${roleName}`, 404);
    }
    if (!role.serviceName) {
      throw new OrganizationError(
        'InvalidParameter.RoleName',
        `role ${role.name} is not a service-linked role; delete it with RAM DeleteRole`,
      );
    }
    const task: DeletionTask = {
      id: `task/${this.roleArn(accountId, role)}/${taskSuffix}`,
      accountId,
      roleName: role.name,
      status: 'SUCCEEDED',
      createDate: isoSeconds(this.now()),
    };
    this.deleteRole(accountId, role.name);
    this.deletionTasks.set(task.id, task);
    return task;
  }

  // -- persistence -----------------------------------------------------------------------------

  /** Everything that changes after load, as plain data (folders come from the fixture). */
  toState(): OrganizationState {
    return {
      format: 1,
      seed: this.ids.seed,
      resourceDirectoryId: this.resourceDirectoryId,
      counter: this.counter,
      accounts: [...this.accounts.values()].map((account) => ({
        ...account,
        roles: [...account.roles.values()],
      })),
      delegations: [...this.delegations],
      deletionTasks: [...this.deletionTasks.values()],
    };
  }

  /**
   * Replaces accounts, roles, delegations and deletion tasks with a saved state of the same
   * directory. Returns false (and changes nothing) when the state belongs to another fixture.
   */
  restoreState(state: OrganizationState): boolean {
    if (
      state.format !== 1 ||
      state.seed !== this.ids.seed ||
      state.resourceDirectoryId !== this.resourceDirectoryId ||
      !state.accounts.some((account) => account.id === this.managementAccountId)
    ) {
      return false;
    }
    this.accounts.clear();
    for (const [key, owner] of this.keyOwners)
      if (owner.kind !== 'service') this.keyOwners.delete(key);
    for (const saved of state.accounts) {
      const account: Account = {
        ...saved,
        roles: new Map(saved.roles.map((role) => [roleKey(role.name), role])),
      };
      if (!this.folders.has(account.folderId)) account.folderId = this.rootFolderId;
      this.accounts.set(account.id, account);
      this.keyOwners.set(account.root.accessKeyId, { kind: 'root', account });
      this.keyOwners.set(account.admin.keys.accessKeyId, { kind: 'user', account });
    }
    this.delegations.splice(0, this.delegations.length, ...state.delegations);
    this.deletionTasks.clear();
    for (const task of state.deletionTasks) this.deletionTasks.set(task.id, task);
    this.counter = state.counter;
    return true;
  }

  // -- views -----------------------------------------------------------------------------------

  snapshot(): OrganizationSnapshot {
    const folderNamePath = (id: string): string =>
      this.folderChain(id)
        .map((folderId) => this.folders.get(folderId)?.name ?? folderId)
        .join('/');
    return {
      resourceDirectoryId: this.resourceDirectoryId,
      rootFolderId: this.rootFolderId,
      managementAccountId: this.managementAccountId,
      folders: [...this.folders.values()].map((folder) => ({
        ...folder,
        path: folderNamePath(folder.id),
      })),
      accounts: [...this.accounts.values()].map((account) => ({
        id: account.id,
        name: account.name,
        displayName: account.displayName,
        kind: account.kind,
        type: account.type,
        joinMethod: account.joinMethod,
        status: account.status,
        joinTime: account.joinTime,
        folderId: account.folderId,
        inDirectory: account.inDirectory,
        roles: [...account.roles.values()].map((role) => ({
          name: role.name,
          serviceLinked: role.serviceName !== undefined,
          ...(role.serviceName ? { serviceName: role.serviceName } : {}),
        })),
      })),
      delegatedAdministrators: [...this.delegations],
    };
  }
}

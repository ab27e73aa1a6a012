// Contracts between localcloud's server and the services it hosts.
// Every service (STS, ResourceManager, RAM, Tablestore, SLS, FC) plugs into one
// loopback server through `LocalService`; signatures, faults and the call log are
// applied uniformly, but each service renders errors in its own wire format.

/** Who signed a request, as the cloud would see it. */
export interface Principal {
  accountId: string;
  type: 'Account' | 'RAMUser' | 'AssumedRoleUser' | 'Service';
  /** acs:ram::<account>:root, acs:ram::<account>:user/<name>,
   *  acs:ram::<account>:role/<role> for assumed roles (with `sessionName`), or the service name. */
  arn: string;
  accessKeyId: string;
  roleName?: string;
  sessionName?: string;
  /** Session policy passed to AssumeRole, kept with the token. */
  sessionPolicy?: string;
  /** For Type=Service: e.g. fc.aliyuncs.com */
  serviceName?: string;
  /** For Type=AssumedRoleUser: the role's id (GetCallerIdentity RoleId). */
  roleId?: string;
  /** For Type=RAMUser: the user's name and id. */
  userName?: string;
  userId?: string;
  /** Epoch ms when an STS token expires (AssumedRoleUser only). */
  expiresAt?: number;
}

export type CredentialFailureCode =
  | 'InvalidAccessKeyId.NotFound'
  | 'InvalidAccessKeyId.Inactive'
  | 'InvalidSecurityToken.Expired'
  | 'InvalidSecurityToken.Malformed'
  | 'InvalidSecurityToken.MismatchWithAccessKey'
  /** A role session whose role was deleted (or deleted and created again): it has no
   *  permissions left. */
  | 'NoPermission';

export type CredentialResolution =
  | { ok: true; secret: string; principal: Principal }
  | { ok: false; code: CredentialFailureCode; message: string };

/** Resolves an AccessKeyId (+ STS token for STS.* keys) to its secret and principal. */
export interface CredentialStore {
  resolve(accessKeyId: string, securityToken: string | undefined): CredentialResolution;
}

/** Time as localcloud sees it; tests move it forward through the controls. */
export interface Clock {
  now(): number;
}

export interface LocalRequest {
  method: string;
  /** Full URL as received (host header kept: SLS puts the project in it). */
  url: URL;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: Buffer;
  /** Remote address, for the call log. */
  remoteAddress: string;
}

export interface LocalResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

export type ServiceName = 'sts' | 'resourcemanager' | 'ram' | 'tablestore' | 'sls' | 'fc';

export interface CallRecord {
  seq: number;
  time: string;
  service: ServiceName;
  action: string;
  /** Caller account id, when the signature identified one. */
  callerAccountId?: string;
  callerArn?: string;
  /** The account whose resources were addressed, when different from the caller. */
  status: number;
  /** 'ok' or the error code returned. */
  result: string;
  /** True when the answer came from fault injection. */
  injected?: boolean;
  durationMs: number;
}

export interface ServiceContext {
  credentials: CredentialStore;
  clock: Clock;
  /** Generates request ids in the service's usual format. */
  requestId(): string;
}

export interface LocalService {
  name: ServiceName;
  /** True when this request is addressed to this service (by version header, path or host). */
  matches(req: LocalRequest): boolean;
  /** The API action the request names, for fault injection and the call log. */
  action(req: LocalRequest): string;
  handle(req: LocalRequest, ctx: ServiceContext): Promise<ServiceOutcome>;
  /** Renders an error in this service's wire format (used for injected faults too). */
  errorResponse(status: number, code: string, message: string, requestId: string): LocalResponse;
  /** The service's documented throttling and server errors, for injected faults. Absent = the
   *  POP defaults (400 Throttling.Api, 503 ServiceUnavailable). */
  faultErrors?: Partial<Record<'throttle' | 'error5xx', FaultError>>;
  /** Releases what the service holds (files, timers) when the server stops. */
  close?(): Promise<void>;
  /** The service's own test controls, under /__localcloud/<service name>/ (loopback only);
   *  `segments` are the decoded path parts after the service name. */
  control?(req: LocalRequest, segments: string[]): LocalResponse;
}

export interface FaultError {
  status: number;
  code: string;
  message: string;
}

export interface ServiceOutcome {
  response: LocalResponse;
  /** Who called, once authenticated, for the call log. */
  caller?: Principal;
  /** 'ok' or the error code, for the call log. */
  result: string;
}

/** `.localcloud/env.json` and GET /__localcloud/env: everything a client needs. */
export interface LocalCloudEnv {
  /** Region id the local cloud pretends to be. */
  region: string;
  /** Base URL of the single server, e.g. http://127.0.0.1:43123 */
  url: string;
  /** host:port (no scheme) per service, as SDK `endpoint` values with protocol http. */
  endpoints: Record<ServiceName, string>;
  /** Control plane base URL: <url>/__localcloud */
  control: string;
  /** The Resource Directory's management account id. */
  managementAccountId: string;
  accounts: Array<{
    id: string;
    name: string;
    kind: 'management' | 'delegated-administrator' | 'member';
    /** Keys of the RAM user named in `user` (full administrator of the account). The cloud
     *  refuses AssumeRole signed with root keys, so these are the keys to use. */
    accessKeyId: string;
    accessKeySecret: string;
    /** The RAM user that owns accessKeyId (always `admin`). */
    user?: string;
    /** The account's root AccessKey, for tests of what root credentials may not do. */
    root?: { accessKeyId: string; accessKeySecret: string };
    folderId?: string;
    /** Service principals this account is a delegated administrator for. */
    delegatedServices?: string[];
  }>;
  /** Keys the local function host uses to act as a cloud service (e.g. fc.aliyuncs.com) in AssumeRole. */
  servicePrincipals: Record<string, { accessKeyId: string; accessKeySecret: string }>;
  /** Filled in by the function host when it runs: the API base URL and a bearer token. */
  api?: { url: string; token: string; viewerToken?: string };
}

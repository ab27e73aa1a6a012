// Credentials for a function's role, as FC obtains them: the FC service principal
// (fc.aliyuncs.com) assumes the role named in s.yaml through STS — here the local cloud's STS,
// called with the official SDK and signed with the service principal's keys from env.json.
// Each role's credentials are kept until shortly before they expire.

import * as sts from '@alicloud/sts20150401';
import type { LocalCloudEnv } from '../core/contracts';

export const FC_SERVICE_PRINCIPAL = 'fc.aliyuncs.com';
const SESSION_DURATION_SECONDS = 3600;
/** Refresh when less than this is left (or a quarter of the lifetime, for short tokens). */
const REFRESH_MARGIN_MS = 5 * 60_000;

export interface FunctionCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
  /** Epoch ms. */
  expiresAt: number;
  /** Epoch ms when STS issued them. */
  issuedAt: number;
}

export class AssumeRoleFailedError extends Error {
  constructor(
    readonly roleArn: string,
    readonly functionName: string,
    readonly code: string,
    detail: string,
  ) {
    super(
      `FC could not assume role ${roleArn} for function ${functionName}: ${code}: ${detail}. ` +
        'The role must exist in the local cloud and trust the service fc.aliyuncs.com; write its ' +
        // biome-ignore lint/suspicious/noTemplateCurlyInString: s.yaml syntax, shown to the user
        "ARN in s.yaml as acs:ram::${config('AccountID')}:role/<name> so it names the local management account.",
    );
    this.name = 'AssumeRoleFailedError';
  }
}

// The SDK ships CommonJS with `exports.default = Client`; under Node's ESM loader the default
// import is the whole exports object.
function sdkClass<T>(imported: T): T {
  const inner = (imported as { default?: T }).default;
  return inner ?? imported;
}
const StsClient = sdkClass(sts.default);

function errorField(error: unknown, key: string): string | undefined {
  if (error !== null && typeof error === 'object' && key in error) {
    const value = (error as Record<string, unknown>)[key];
    return typeof value === 'string' ? value : undefined;
  }
  return undefined;
}

export interface CredentialProviderOptions {
  cloud: LocalCloudEnv;
  now?: () => number;
}

export class RoleCredentialProvider {
  private readonly cache = new Map<string, FunctionCredentials>();
  private readonly pending = new Map<string, Promise<FunctionCredentials>>();
  private readonly client: InstanceType<typeof StsClient>;
  private readonly now: () => number;

  constructor(options: CredentialProviderOptions) {
    const principal = options.cloud.servicePrincipals[FC_SERVICE_PRINCIPAL];
    if (!principal) {
      throw new Error(
        `the local cloud publishes no keys for service principal ${FC_SERVICE_PRINCIPAL} (servicePrincipals in env.json)`,
      );
    }
    // openapi-core's Config is a class, but the client constructor only reads these fields;
    // a plain object avoids depending on openapi-core (not a direct dependency) directly.
    const config = {
      accessKeyId: principal.accessKeyId,
      accessKeySecret: principal.accessKeySecret,
      endpoint: options.cloud.endpoints.sts,
      protocol: 'http',
      regionId: options.cloud.region,
    };
    this.client = new StsClient(config as unknown as ConstructorParameters<typeof StsClient>[0]);
    this.now = options.now ?? Date.now;
  }

  /** Credentials for `roleArn`, from the cache while they have time left. */
  async forRole(roleArn: string, functionName: string): Promise<FunctionCredentials> {
    const cached = this.cache.get(roleArn);
    if (cached && !this.isStale(cached)) return cached;
    const inFlight = this.pending.get(roleArn);
    if (inFlight) return inFlight;
    const request = this.assumeRole(roleArn, functionName).finally(() =>
      this.pending.delete(roleArn),
    );
    this.pending.set(roleArn, request);
    const fresh = await request;
    this.cache.set(roleArn, fresh);
    return fresh;
  }

  /** True when credentials should not be handed to a new invocation or instance. */
  isStale(credentials: FunctionCredentials): boolean {
    const left = credentials.expiresAt - this.now();
    const lifetime = credentials.expiresAt - credentials.issuedAt;
    return left < Math.min(REFRESH_MARGIN_MS, lifetime / 4);
  }

  private async assumeRole(roleArn: string, functionName: string): Promise<FunctionCredentials> {
    // RoleSessionName allows [\w.@-]{2,64}.
    const sessionName = `fc-${functionName}`.replace(/[^\w.@-]/g, '-').slice(0, 64);
    let response: Awaited<ReturnType<typeof this.client.assumeRole>>;
    try {
      response = await this.client.assumeRole(
        new sts.AssumeRoleRequest({
          roleArn,
          roleSessionName: sessionName,
          durationSeconds: SESSION_DURATION_SECONDS,
        }),
      );
    } catch (error) {
      const code = errorField(error, 'code') ?? 'Error';
      const detail = errorField(error, 'message') ?? String(error);
      // The SDK's message repeats the code and appends the request id: keep the reason.
      const reason = (detail.split('\n')[0] ?? '')
        .replace(new RegExp(`^${code.replace(/[.]/g, '\\.')}:\\s*`), '')
        .replace(/^code: \d+,\s*/, '');
      throw new AssumeRoleFailedError(roleArn, functionName, code, reason);
    }
    const credentials = response.body?.credentials;
    if (!credentials?.accessKeyId || !credentials.accessKeySecret || !credentials.securityToken) {
      throw new AssumeRoleFailedError(roleArn, functionName, 'InvalidResponse', 'no Credentials');
    }
    const issuedAt = this.now();
    const expiresAt = Date.parse(credentials.expiration ?? '');
    return {
      issuedAt,
      accessKeyId: credentials.accessKeyId,
      accessKeySecret: credentials.accessKeySecret,
      securityToken: credentials.securityToken,
      expiresAt: Number.isNaN(expiresAt) ? issuedAt + SESSION_DURATION_SECONDS * 1000 : expiresAt,
    };
  }
}

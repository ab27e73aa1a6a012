// Official SDK clients pointed at a localcloud started by the test: endpoint + protocol only.

import { $OpenApiUtil } from '@alicloud/openapi-core';
import * as ram from '@alicloud/ram20150501';
import * as rm from '@alicloud/resourcemanager20200331';
import * as sts from '@alicloud/sts20150401';
import type { EnvAccount, LocalCloud } from '../../../localcloud/index';

// The SDKs ship CommonJS with `exports.default = Client`; under Node's ESM loader the default
// import is the whole exports object.
function sdkClass<T>(imported: T): T {
  return (imported as { default?: T }).default ?? imported;
}
export const StsClient = sdkClass(sts.default);
export const ResourceManagerClient = sdkClass(rm.default);
export const RamClient = sdkClass(ram.default);
export { ram, rm, sts };

export interface Keys {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

function config(cloud: LocalCloud, keys: Keys, service: 'sts' | 'resourcemanager' | 'ram') {
  return new $OpenApiUtil.Config({
    accessKeyId: keys.accessKeyId,
    accessKeySecret: keys.accessKeySecret,
    ...(keys.securityToken ? { securityToken: keys.securityToken } : {}),
    endpoint: cloud.env.endpoints[service],
    protocol: 'http',
    regionId: cloud.env.region,
  });
}

export function stsClient(cloud: LocalCloud, keys: Keys) {
  return new StsClient(config(cloud, keys, 'sts'));
}
export function rmClient(cloud: LocalCloud, keys: Keys) {
  return new ResourceManagerClient(config(cloud, keys, 'resourcemanager'));
}
export function ramClient(cloud: LocalCloud, keys: Keys) {
  return new RamClient(config(cloud, keys, 'ram'));
}

export function management(cloud: LocalCloud): EnvAccount {
  const account = cloud.env.accounts.find((candidate) => candidate.kind === 'management');
  if (!account) throw new Error('env has no management account');
  return account;
}

export function delegatedAdministrator(cloud: LocalCloud): EnvAccount {
  const account = cloud.env.accounts.find(
    (candidate) => candidate.kind === 'delegated-administrator',
  );
  if (!account) throw new Error('env has no delegated administrator');
  return account;
}

/** Plain members (not delegated administrators), in env order. */
export function members(cloud: LocalCloud): EnvAccount[] {
  return cloud.env.accounts.filter((candidate) => candidate.kind === 'member');
}

export function rootKeys(account: EnvAccount): Keys {
  if (!account.root) throw new Error(`env publishes no root keys for ${account.id}`);
  return account.root;
}

export interface SdkFailure {
  name: string;
  code: string;
  statusCode: number | undefined;
  message: string;
}

/** Awaits a call that must fail and returns the SDK error's fields. */
export async function failure(call: Promise<unknown>): Promise<SdkFailure> {
  try {
    await call;
  } catch (error) {
    const fields = error as { name?: string; code?: string; statusCode?: number; message?: string };
    return {
      name: fields.name ?? '',
      code: fields.code ?? '',
      statusCode: fields.statusCode,
      message: fields.message ?? String(error),
    };
  }
  throw new Error('expected the call to fail, it succeeded');
}

export async function assumeRole(
  cloud: LocalCloud,
  caller: Keys,
  roleArn: string,
  options: { sessionName?: string; durationSeconds?: number; policy?: string } = {},
): Promise<Keys> {
  const response = await stsClient(cloud, caller).assumeRole(
    new sts.AssumeRoleRequest({
      roleArn,
      roleSessionName: options.sessionName ?? 'integration-test',
      ...(options.durationSeconds ? { durationSeconds: options.durationSeconds } : {}),
      ...(options.policy ? { policy: options.policy } : {}),
    }),
  );
  const credentials = response.body?.credentials;
  if (!credentials?.accessKeyId || !credentials.accessKeySecret || !credentials.securityToken) {
    throw new Error('AssumeRole returned no credentials');
  }
  return {
    accessKeyId: credentials.accessKeyId,
    accessKeySecret: credentials.accessKeySecret,
    securityToken: credentials.securityToken,
  };
}

export function accessRoleArn(accountId: string): string {
  return `acs:ram::${accountId}:role/ResourceDirectoryAccountAccessRole`;
}

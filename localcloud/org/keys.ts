// The organization's long-term AccessKeys as the credential store sees them: each account's
// root key, its RAM user `admin`, and the keys of the cloud services the function host acts as.

import type { StaticKeyLookup } from '../core/credentials';
import type { Organization } from './organization';

export function organizationKeys(organization: Organization): StaticKeyLookup {
  return (accessKeyId) => {
    const owner = organization.keyOwner(accessKeyId);
    if (!owner) return undefined;
    if (owner.kind === 'service') {
      const keys = organization.servicePrincipals.get(owner.serviceName);
      if (!keys) return undefined;
      return {
        secret: keys.accessKeySecret,
        principal: {
          // A service acts for no account of its own.
          accountId: '',
          type: 'Service',
          arn: owner.serviceName,
          accessKeyId,
          serviceName: owner.serviceName,
        },
      };
    }
    const account = owner.account;
    if (owner.kind === 'root') {
      return {
        secret: account.root.accessKeySecret,
        principal: {
          accountId: account.id,
          type: 'Account',
          arn: `acs:ram::${account.id}:root`,
          accessKeyId,
        },
      };
    }
    return {
      secret: account.admin.keys.accessKeySecret,
      principal: {
        accountId: account.id,
        type: 'RAMUser',
        arn: `acs:ram::${account.id}:user/${account.admin.userName}`,
        accessKeyId,
        userName: account.admin.userName,
        userId: account.admin.userId,
      },
    };
  };
}

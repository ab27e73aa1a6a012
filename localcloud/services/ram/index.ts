// RAM 2015-05-01: GetRole, ListRoles (Marker/MaxItems), CreateRole — on the caller's own account.

import type { LocalService } from '../../core/contracts';
import { InvalidMarkerError, pageByMarker } from '../../core/paging';
import { createPopService, type PopCall, type PopDependencies, PopError } from '../../core/pop';
import type { Organization, Role } from '../../org/organization';
import {
  callerAccount,
  mapOrganizationError,
  requireRole,
  roleBody,
  roleResource,
} from '../../org/role-api';

export const RAM_VERSION = '2015-05-01';

export interface RamDependencies extends PopDependencies {
  organization: Organization;
}

function actions(
  organization: Organization,
): Record<string, (call: PopCall) => Record<string, unknown>> {
  return {
    GetRole(call) {
      const account = callerAccount(organization, call.caller);
      const role = requireRole(organization, account, call.required('RoleName'));
      return { Role: roleBody(organization, account.id, role) };
    },

    ListRoles(call) {
      const account = callerAccount(organization, call.caller);
      const maxItems = call.integer('MaxItems', 100, 1, 1000);
      let page: ReturnType<typeof pageByMarker<Role>>;
      try {
        page = pageByMarker(
          [...account.roles.values()],
          (role) => role.name.toLowerCase(),
          call.param('Marker'),
          maxItems,
        );
      } catch (error) {
        if (error instanceof InvalidMarkerError) {
          throw new PopError(
            400,
            'InvalidParameter.Marker',
            `The parameter Marker is invalid: ${error.message}.`,
          );
        }
        throw error;
      }
      return {
        IsTruncated: page.isTruncated,
        ...(page.marker ? { Marker: page.marker } : {}),
        Roles: {
          Role: page.items.map((role) => {
            const { AssumeRolePolicyDocument: _omitted, ...summary } = roleBody(
              organization,
              account.id,
              role,
            );
            return summary;
          }),
        },
      };
    },

    CreateRole(call) {
      const account = callerAccount(organization, call.caller);
      const roleName = call.required('RoleName');
      const document = call.required('AssumeRolePolicyDocument');
      const description = call.param('Description');
      const rawMax = call.param('MaxSessionDuration');
      let maxSessionDuration: number | undefined;
      if (rawMax !== undefined && rawMax !== '') {
        maxSessionDuration = Number(rawMax);
        if (!Number.isInteger(maxSessionDuration)) {
          throw new PopError(
            400,
            'InvalidParameter.MaxSessionDuration',
            `MaxSessionDuration must be an integer from 3600 to 43200; got ${rawMax}.`,
          );
        }
      }
      const role = organization.addRole(account.id, {
        name: roleName,
        trustPolicy: document,
        ...(description ? { description } : {}),
        ...(maxSessionDuration === undefined ? {} : { maxSessionDuration }),
      });
      const body = roleBody(organization, account.id, role);
      const { UpdateDate: _update, ...created } = body;
      return { Role: created };
    },
  };
}

export function createRamService(deps: RamDependencies): LocalService {
  return createPopService(
    {
      name: 'ram',
      version: RAM_VERSION,
      product: 'ram',
      hostId: 'ram.aliyuncs.com',
      actions: actions(deps.organization),
      resourceOf: (_action, call) => {
        const roleName = call.param('RoleName');
        return roleName ? roleResource(call.caller.accountId, roleName) : undefined;
      },
      mapError: mapOrganizationError,
    },
    deps,
  );
}

// Which role CreateServiceLinkedRole creates for each ServiceName. Names follow Alibaba Cloud's
// service-linked roles; the `rd.` services are the multi-account (Resource Directory) variants.
// localcloud keeps its own table (it imports nothing from shared/); `source` says where a pairing
// is documented. A role whose ServiceName is not documented can be seeded by fixtures and the
// controls, but CreateServiceLinkedRole refuses its assumed name: the cloud's answer is unknown.

export interface ServiceLinkedRoleSpec {
  serviceName: string;
  roleName: string;
  description: string;
  /** Where the role and its ServiceName are documented. */
  source?: string;
  /** false: the ServiceName is localcloud's assumption; CreateServiceLinkedRole refuses it. */
  serviceNameDocumented?: boolean;
}

export const SERVICE_LINKED_ROLE_PATH = '/aliyun-service-role/';

export const SERVICE_LINKED_ROLES: readonly ServiceLinkedRoleSpec[] = [
  {
    serviceName: 'sas.aliyuncs.com',
    roleName: 'AliyunServiceRoleForSas',
    description: 'Security Center uses this role to access your resources in other services.',
    source:
      'https://www.alibabacloud.com/help/en/security-center/user-guide/service-linked-roles-for-security-center',
  },
  {
    serviceName: 'rd.sas.aliyuncs.com',
    roleName: 'AliyunServiceRoleForSasRd',
    description:
      'Security Center uses this role to manage member accounts of the resource directory.',
    source:
      'https://www.alibabacloud.com/help/en/security-center/user-guide/service-linked-roles-for-security-center; https://www.alibabacloud.com/help/en/ram/developer-reference/aliyunservicerolepolicyforsasrd (ram:ServiceName rd.sas.aliyuncs.com)',
  },
  {
    serviceName: 'cloudsiem.sas.aliyuncs.com',
    roleName: 'AliyunServiceRoleForSasCloudSiem',
    description: 'Security Center (Agentic SOC) uses this role to read logs of member accounts.',
    source:
      'https://www.alibabacloud.com/help/en/security-center/user-guide/service-linked-roles-for-security-center',
  },
  {
    serviceName: 'bdrc.aliyuncs.com',
    roleName: 'AliyunServiceRoleForBDRC',
    description: 'Backup and Disaster Recovery Center uses this role to access your resources.',
    source:
      'https://www.alibabacloud.com/help/en/bdrc/security-and-compliance/bdrc-service-linked-roles (policy: ram:ServiceName bdrc.aliyuncs.com)',
  },
  {
    serviceName: 'rd.bdrc.aliyuncs.com',
    roleName: 'AliyunServiceRoleForBdrcRd',
    description: 'BDRC uses this role to manage member accounts of the resource directory.',
    source:
      'https://www.alibabacloud.com/help/en/bdrc/security-and-compliance/bdrc-service-linked-roles documents the role (created in members by cross-account management) but no ServiceName; rd.bdrc.aliyuncs.com is assumed by analogy with rd.sas / rd.hbr',
    serviceNameDocumented: false,
  },
  {
    serviceName: 'bastionhost.aliyuncs.com',
    roleName: 'AliyunServiceRoleForBastionhost',
    description: 'Bastionhost uses this role to access your resources in other services.',
    source:
      'https://www.alibabacloud.com/help/en/bh/bastionhost/user-guide/authorize-bastionhost-to-access-cloud-resources (role); ServiceName from https://github.com/alibabacloud-automation/terraform-alicloud-service-linked-role (service_linked_role.tf)',
  },
  {
    serviceName: 'audit.log.aliyuncs.com',
    roleName: 'AliyunServiceRoleForSLSAudit',
    description: 'Log Service uses this role to collect audit logs of cloud products.',
    source:
      'https://www.alibabacloud.com/help/en/sls/manage-the-aliyunserviceroleforslsaudit-service-linked-role (role); https://www.alibabacloud.com/help/en/ram/developer-reference/aliyunservicerolepolicyforalblogdelivery (ram:ServiceName audit.log.aliyuncs.com)',
  },
  {
    serviceName: 'cloudfw.aliyuncs.com',
    roleName: 'AliyunServiceRoleForCloudFW',
    description: 'Cloud Firewall uses this role to access your resources in other services.',
  },
  {
    serviceName: 'actiontrail.aliyuncs.com',
    roleName: 'AliyunServiceRoleForActionTrail',
    description: 'ActionTrail uses this role to deliver events.',
  },
  {
    serviceName: 'config.aliyuncs.com',
    roleName: 'AliyunServiceRoleForConfig',
    description: 'Cloud Config uses this role to read resource configurations.',
  },
];

/** What CreateServiceLinkedRole creates for a ServiceName: documented service names only. */
export function serviceLinkedRoleFor(serviceName: string): ServiceLinkedRoleSpec | undefined {
  const wanted = serviceName.toLowerCase();
  return SERVICE_LINKED_ROLES.find(
    (spec) => spec.serviceName === wanted && spec.serviceNameDocumented !== false,
  );
}

/**
 * Looks a spec up by service name, role name, or the short service name (`rd.sas`), undocumented
 * service names included: fixtures and the controls seed roles that exist in the cloud.
 */
export function findServiceLinkedRole(nameOrService: string): ServiceLinkedRoleSpec | undefined {
  const wanted = nameOrService.toLowerCase();
  return SERVICE_LINKED_ROLES.find(
    (spec) =>
      spec.serviceName === wanted ||
      spec.roleName.toLowerCase() === wanted ||
      spec.serviceName === `${wanted}.aliyuncs.com`,
  );
}

export function serviceLinkedTrustPolicy(serviceName: string): string {
  return JSON.stringify({
    Statement: [
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: [serviceName] } },
    ],
    Version: '1',
  });
}

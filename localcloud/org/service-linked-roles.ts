// Which role CreateServiceLinkedRole creates for each ServiceName. Names follow Alibaba Cloud's
// service-linked roles; the `rd.` services are the multi-account (Resource Directory) variants.

export interface ServiceLinkedRoleSpec {
  serviceName: string;
  roleName: string;
  description: string;
}

export const SERVICE_LINKED_ROLE_PATH = '/aliyun-service-role/';

export const SERVICE_LINKED_ROLES: readonly ServiceLinkedRoleSpec[] = [
  {
    serviceName: 'sas.aliyuncs.com',
    roleName: 'AliyunServiceRoleForSas',
    description: 'Security Center uses this role to access your resources in other services.',
  },
  {
    serviceName: 'rd.sas.aliyuncs.com',
    roleName: 'AliyunServiceRoleForSasRd',
    description:
      'Security Center uses this role to manage member accounts of the resource directory.',
  },
  {
    serviceName: 'cloudsiem.sas.aliyuncs.com',
    roleName: 'AliyunServiceRoleForSasCloudSiem',
    description: 'Security Center (Agentic SOC) uses this role to read logs of member accounts.',
  },
  {
    serviceName: 'bdrc.aliyuncs.com',
    roleName: 'AliyunServiceRoleForBdrc',
    description: 'Backup and Disaster Recovery Center uses this role to access your resources.',
  },
  {
    serviceName: 'rd.bdrc.aliyuncs.com',
    roleName: 'AliyunServiceRoleForBdrcRd',
    description: 'BDRC uses this role to manage member accounts of the resource directory.',
  },
  {
    serviceName: 'bastionhost.aliyuncs.com',
    roleName: 'AliyunServiceRoleForBastionhost',
    description: 'Bastionhost uses this role to access your resources in other services.',
  },
  {
    serviceName: 'audit.log.aliyuncs.com',
    roleName: 'AliyunServiceRoleForSLSAudit',
    description: 'Log Service uses this role to collect audit logs of cloud products.',
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

export function serviceLinkedRoleFor(serviceName: string): ServiceLinkedRoleSpec | undefined {
  const wanted = serviceName.toLowerCase();
  return SERVICE_LINKED_ROLES.find((spec) => spec.serviceName === wanted);
}

/** Looks a spec up by service name, role name, or the short service name (`rd.sas`). */
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

// The services a scope can enable for the members it covers. Each later capability keys off
// these names (the role catalog lists the service-linked roles per service).

import { z } from 'zod';

export const MANAGED_SERVICES = [
  /** Security Center multi-account (rd.sas / cloudsiem.sas roles). */
  'security-center',
  /** Cloud Backup / BDRC cross-account management. */
  'bdrc',
  /** Bastionhost multi-account and session-audit indexing. */
  'bastionhost',
  /** SLS log audit. */
  'sls-audit',
  /** Cross-account log integration into the central Logstore. */
  'log-integration',
] as const;

export type ManagedService = (typeof MANAGED_SERVICES)[number];

export const managedServiceSchema = z.enum(MANAGED_SERVICES, {
  error: () => `must be one of ${MANAGED_SERVICES.join(', ')}`,
});

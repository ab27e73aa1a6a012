// What the service-linked-role capability keeps: per member and role, whether the role was
// present, missing, or could not be checked, and when.

export const ROLE_CHECK_STATES = ['present', 'missing', 'error', 'unreachable'] as const;
/** unreachable: the member's access role could not be assumed, so the role was not read. */
export type RoleCheckState = (typeof ROLE_CHECK_STATES)[number];

export interface RoleCheck {
  accountId: string;
  roleName: string;
  /** The services that need the role, comma-separated, e.g. security-center. */
  service?: string;
  state: RoleCheckState;
  /** Why the state is `missing` or `error` (the cloud's message). */
  reason?: string;
  /** ISO 8601. */
  checkedAt: string;
}

// Least privilege on every hop: the session policy each function's member sessions carry. A
// capability contributes the actions it calls in members (one line below each); a function's
// policy allows the actions of the capabilities it runs there, and nothing else. One policy per
// function, so its credential cache holds one session per member.

import { ROLE_CHECK_ACTIONS, ROLE_REPAIR_ACTIONS } from '../cloud/ram/member-roles';
import { sessionPolicyAllowing } from '../cloud/sts';
import type { Config } from '../config';

/** What each capability calls in member accounts, as RAM actions. */
export const MEMBER_ACTIONS = {
  /** Onboarding's reachability probe: AssumeRole alone proves it; nothing in the member. */
  reachability: [],
  /** Role checks read the roles a member's services need. */
  roleChecks: ROLE_CHECK_ACTIONS,
  /** Role repairs create the missing service-linked roles. */
  roleRepairs: ROLE_REPAIR_ACTIONS,
  /** Log planning finds the products' Logstores and lists their shards. */
  logPlanning: [
    'log:ListProject',
    'log:GetProject',
    'log:ListLogStores',
    'log:GetLogStore',
    'log:ListShards',
  ],
  /** Log reading: cursors and PullLogs (one RAM action covers both). */
  logReading: ['log:GetCursorOrData'],
  /** Log diagnosis (the API): whether the product's project and Logstore exist. */
  logDiagnosis: ['log:ListProject', 'log:GetProject', 'log:ListLogStores', 'log:GetLogStore'],
} as const satisfies Record<string, readonly string[]>;

export type MemberCapability = keyof typeof MEMBER_ACTIONS;

/** The functions that reach members, by their name in shared/wiring. */
export type MemberSessionFunction =
  | 'api'
  | 'directory-events'
  | 'reconcile'
  | 'role-check-worker'
  | 'onboarding-worker'
  | 'log-planner'
  | 'log-worker';

/**
 * The capabilities each function runs in members. Onboarding (a scope change's run, an event, a
 * reconcile) probes and checks roles, repairing them only under ROLE_REPAIR_POLICY=repair. The
 * API also serves the repair route, and role-check-worker the sweeps the API starts with
 * `?repair=true`: both may repair whatever the policy. The API also diagnoses data sources; the
 * log planner and worker touch members' Log Service only. `roles` (the configuration's section) matters only to the
 * onboarding functions (absent, they do not repair).
 */
export function memberCapabilities(
  fn: MemberSessionFunction,
  roles?: Config<'roles'>['roles'],
): MemberCapability[] {
  const onboarding: MemberCapability[] = [
    'reachability',
    'roleChecks',
    ...(roles?.repairPolicy === 'repair' ? (['roleRepairs'] as const) : []),
  ];
  switch (fn) {
    case 'api':
      return ['reachability', 'roleChecks', 'roleRepairs', 'logDiagnosis'];
    case 'log-planner':
      return ['logPlanning'];
    case 'log-worker':
      return ['logReading'];
    case 'role-check-worker':
      return ['roleChecks', 'roleRepairs'];
    case 'directory-events':
    case 'reconcile':
    case 'onboarding-worker':
      return onboarding;
  }
}

/** The session policy of `fn`'s member sessions. */
export function memberSessionPolicy(
  fn: MemberSessionFunction,
  roles?: Config<'roles'>['roles'],
): string {
  return sessionPolicyAllowing(memberCapabilities(fn, roles).flatMap((c) => MEMBER_ACTIONS[c]));
}

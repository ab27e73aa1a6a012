// What onboarding needs from the world besides the directory and the store.

import type { Member, MemberFailure } from '../store';

export type ProbeResult = { ok: true } | { ok: false; failure: Omit<MemberFailure, 'at'> };

/** Proves a member is reachable: AssumeRole into its access role. */
export interface MemberProbe {
  roleArn(accountId: string): string;
  probe(accountId: string): Promise<ProbeResult>;
}

/**
 * Work a later capability registers to run when a member comes under management (a role check,
 * a log integration) and to undo when it leaves. A throwing step leaves the member `onboarding`
 * with the step's reason; the next reconcile runs the steps again, so steps must be idempotent.
 */
export interface OnboardingStep {
  name: string;
  onboard(member: Member): Promise<void>;
  /** Clears what the step kept for the member. */
  offboard?(accountId: string): Promise<void>;
}

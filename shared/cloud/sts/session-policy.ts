// Session policies: what a member session may do, narrower than the member's access role
// (administrator by default). STS keeps the policy with the token, and every call made with it is
// allowed only if both the role and the policy allow it. Each function passes one policy, made of
// the actions its capabilities call in members (shared/wiring/member-sessions.ts), so the
// credential cache still holds one session per member.

/** A session policy allowing exactly `actions` (RAM action names) on any resource; with none,
 *  a policy that allows nothing (a session that only proves the role can be assumed). */
export function sessionPolicyAllowing(actions: readonly string[]): string {
  const allowed = [...new Set(actions)].sort();
  return JSON.stringify({
    Version: '1',
    Statement: [
      allowed.length > 0
        ? { Effect: 'Allow', Action: allowed, Resource: '*' }
        : { Effect: 'Deny', Action: '*', Resource: '*' },
    ],
  });
}

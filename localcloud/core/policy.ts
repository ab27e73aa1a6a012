// RAM policy documents: grammar checks, trust-policy evaluation for AssumeRole, and the session
// policy that narrows an STS token. Pure functions; explicit Deny always wins; anything this
// evaluator does not understand (an unknown condition key) fails closed, because a local test
// that passes where the cloud would refuse is a bug.

export interface PolicyStatement {
  effect: 'Allow' | 'Deny';
  actions: string[];
  resources: string[];
  principal?: { ram: string[]; service: string[]; federated: string[] };
  condition?: Record<string, Record<string, string[]>>;
}

export interface PolicyDocument {
  version: string;
  statements: PolicyStatement[];
}

export type PolicyParse = { ok: true; policy: PolicyDocument } | { ok: false; reason: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(value: unknown, field: string): string[] | string {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
  return `${field} must be a string or a list of strings`;
}

/**
 * Parses a policy document. `trust` documents need a Principal in every statement and only
 * sts:AssumeRole actions; `permission` documents (session policies) need Action and Resource.
 */
export function parsePolicy(text: string, kind: 'trust' | 'permission'): PolicyParse {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'the document is not valid JSON' };
  }
  if (!isRecord(raw)) return { ok: false, reason: 'the document must be a JSON object' };
  const version = raw.Version;
  if (version !== '1') return { ok: false, reason: 'Version must be "1"' };
  const rawStatements = Array.isArray(raw.Statement) ? raw.Statement : [raw.Statement];
  if (raw.Statement === undefined || rawStatements.length === 0) {
    return { ok: false, reason: 'Statement must hold at least one statement' };
  }
  const statements: PolicyStatement[] = [];
  for (const [index, item] of rawStatements.entries()) {
    const where = `Statement[${index}]`;
    if (!isRecord(item)) return { ok: false, reason: `${where} must be an object` };
    if (item.Effect !== 'Allow' && item.Effect !== 'Deny') {
      return { ok: false, reason: `${where}.Effect must be Allow or Deny` };
    }
    const actions = stringList(item.Action, `${where}.Action`);
    if (typeof actions === 'string') return { ok: false, reason: actions };
    if (actions.length === 0) return { ok: false, reason: `${where}.Action is empty` };
    const statement: PolicyStatement = { effect: item.Effect, actions, resources: [] };
    if (item.Resource !== undefined) {
      const resources = stringList(item.Resource, `${where}.Resource`);
      if (typeof resources === 'string') return { ok: false, reason: resources };
      statement.resources = resources;
    }
    if (kind === 'permission' && statement.resources.length === 0) {
      return { ok: false, reason: `${where}.Resource is required` };
    }
    if (kind === 'trust') {
      if (!actions.every((action) => /^sts:(AssumeRole|\*)$/i.test(action))) {
        return {
          ok: false,
          reason: `${where}.Action of a trust policy may only be sts:AssumeRole`,
        };
      }
      if (!isRecord(item.Principal)) {
        return { ok: false, reason: `${where}.Principal must name RAM, Service or Federated` };
      }
      const principal = { ram: [] as string[], service: [] as string[], federated: [] as string[] };
      for (const [key, value] of Object.entries(item.Principal)) {
        const list = stringList(value, `${where}.Principal.${key}`);
        if (typeof list === 'string') return { ok: false, reason: list };
        if (key === 'RAM') principal.ram = list;
        else if (key === 'Service') principal.service = list;
        else if (key === 'Federated') principal.federated = list;
        else return { ok: false, reason: `${where}.Principal.${key} is not a principal type` };
      }
      if (principal.ram.length + principal.service.length + principal.federated.length === 0) {
        return { ok: false, reason: `${where}.Principal is empty` };
      }
      statement.principal = principal;
    }
    if (item.Condition !== undefined) {
      if (!isRecord(item.Condition)) return { ok: false, reason: `${where}.Condition is invalid` };
      const condition: Record<string, Record<string, string[]>> = {};
      for (const [operator, block] of Object.entries(item.Condition)) {
        if (!isRecord(block))
          return { ok: false, reason: `${where}.Condition.${operator} is invalid` };
        condition[operator] = {};
        for (const [key, value] of Object.entries(block)) {
          const list = stringList(value, `${where}.Condition.${operator}.${key}`);
          if (typeof list === 'string') return { ok: false, reason: list };
          condition[operator][key] = list;
        }
      }
      statement.condition = condition;
    }
    statements.push(statement);
  }
  return { ok: true, policy: { version, statements } };
}

/** `*` matches any run of characters, `?` one character; case-insensitive as RAM compares. */
export function globMatches(pattern: string, value: string): boolean {
  const escaped = pattern
    .split('')
    .map((char) => {
      if (char === '*') return '.*';
      if (char === '?') return '.';
      return char.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${escaped}$`, 'i').test(value);
}

/** Conditions this evaluator understands; any other key makes the statement fail closed. */
function conditionHolds(
  condition: Record<string, Record<string, string[]>> | undefined,
  context: Record<string, string | undefined>,
): boolean | 'unknown' {
  if (!condition) return true;
  for (const [operator, block] of Object.entries(condition)) {
    for (const [key, expected] of Object.entries(block)) {
      const actual = context[key.toLowerCase()];
      if (!(key.toLowerCase() in context)) return 'unknown';
      if (actual === undefined) return false;
      if (operator === 'StringEquals') {
        if (!expected.includes(actual)) return false;
      } else if (operator === 'StringLike') {
        if (!expected.some((pattern) => globMatches(pattern, actual))) return false;
      } else {
        return 'unknown';
      }
    }
  }
  return true;
}

/** Who is asking to assume a role. */
export interface TrustRequester {
  type: 'Account' | 'RAMUser' | 'AssumedRoleUser' | 'Service';
  accountId: string;
  userName?: string;
  roleName?: string;
  serviceName?: string;
}

export interface TrustDecision {
  allowed: boolean;
  /** Which statement decided, or why nothing matched. */
  reason: string;
}

const RAM_ARN = /^acs:ram::(\d+):(root|user\/(.+)|role\/(.+))$/i;

/** True when one RAM principal entry of a trust policy names the requester. */
export function ramPrincipalMatches(entry: string, requester: TrustRequester): boolean {
  if (requester.type !== 'RAMUser' && requester.type !== 'AssumedRoleUser') return false;
  if (/^\d+$/.test(entry)) return entry === requester.accountId;
  const match = RAM_ARN.exec(entry);
  if (!match) return false;
  const [, accountId, kind = '', userName, roleName] = match;
  if (accountId !== requester.accountId) return false;
  if (kind.toLowerCase() === 'root') return true;
  if (userName !== undefined) {
    return (
      requester.type === 'RAMUser' &&
      requester.userName !== undefined &&
      globMatches(userName, requester.userName)
    );
  }
  if (roleName !== undefined) {
    return (
      requester.type === 'AssumedRoleUser' &&
      requester.roleName !== undefined &&
      globMatches(roleName, requester.roleName)
    );
  }
  return false;
}

/** `fc.aliyuncs.com` or the account-scoped form `<account>@fc.aliyuncs.com`. */
export function servicePrincipalMatches(
  entry: string,
  requester: TrustRequester,
  roleAccountId: string,
): boolean {
  if (requester.type !== 'Service' || !requester.serviceName) return false;
  const at = entry.indexOf('@');
  if (at < 0) return entry.toLowerCase() === requester.serviceName.toLowerCase();
  return (
    entry.slice(0, at) === roleAccountId &&
    entry.slice(at + 1).toLowerCase() === requester.serviceName.toLowerCase()
  );
}

/** Evaluates a role's trust policy for sts:AssumeRole by `requester`. */
export function evaluateTrustPolicy(
  policy: PolicyDocument,
  requester: TrustRequester,
  roleAccountId: string,
  context: { externalId?: string } = {},
): TrustDecision {
  const conditionContext = { 'sts:externalid': context.externalId };
  let allowedBy: number | undefined;
  let unknownCondition = false;
  for (const [index, statement] of policy.statements.entries()) {
    if (!statement.actions.some((action) => globMatches(action, 'sts:AssumeRole'))) continue;
    const principal = statement.principal;
    if (!principal) continue;
    const named =
      principal.ram.some((entry) => ramPrincipalMatches(entry, requester)) ||
      principal.service.some((entry) => servicePrincipalMatches(entry, requester, roleAccountId));
    if (!named) continue;
    const holds = conditionHolds(statement.condition, conditionContext);
    if (statement.effect === 'Deny') {
      // An unknown condition on a Deny is treated as holding: fail closed.
      if (holds !== false) {
        return { allowed: false, reason: `Statement[${index}] denies sts:AssumeRole explicitly` };
      }
      continue;
    }
    if (holds === 'unknown') unknownCondition = true;
    else if (holds && allowedBy === undefined) allowedBy = index;
  }
  if (allowedBy !== undefined) {
    return { allowed: true, reason: `Statement[${allowedBy}] allows the caller` };
  }
  return {
    allowed: false,
    reason: unknownCondition
      ? 'a statement names the caller but its Condition uses a key localcloud does not evaluate'
      : 'no Allow statement names the caller',
  };
}

/**
 * Session policy check: allowed only when an Allow statement matches the action and resource and
 * no Deny does. `resource` undefined = the action has no specific resource, so only `*` matches.
 */
export function permissionAllows(
  policy: PolicyDocument,
  action: string,
  resource: string | undefined,
): boolean {
  let allowed = false;
  for (const statement of policy.statements) {
    if (!statement.actions.some((pattern) => globMatches(pattern, action))) continue;
    const resourceMatches = statement.resources.some((pattern) =>
      resource === undefined ? pattern === '*' : globMatches(pattern, resource),
    );
    if (!resourceMatches) continue;
    if (statement.effect === 'Deny') return false;
    allowed = true;
  }
  return allowed;
}

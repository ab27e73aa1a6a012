// EventBridge event patterns, as a rule filters events before they reach an FC trigger.
// A pattern mirrors the event's shape; each leaf is a list of conditions, and the field matches
// when any condition does (for an array field: when any element does). Conditions: a literal
// (string, number, boolean, null), {prefix}, {suffix}, {anything-but: value | [values] |
// {prefix} | {suffix}}, {numeric: [op, n, op, n]}, {cidr: "a.b.c.d/n"}, {exists: boolean},
// {equals-ignore-case}. Every key of the pattern must match.

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function ipv4ToNumber(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let out = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    out = out * 256 + n;
  }
  return out;
}

function inCidr(value: unknown, cidr: string): boolean {
  if (typeof value !== 'string') return false;
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText ?? '32');
  const ip = ipv4ToNumber(value);
  const network = ipv4ToNumber(base ?? '');
  if (ip === undefined || network === undefined || !(bits >= 0 && bits <= 32)) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(ip / size) === Math.floor(network / size);
}

function numericMatches(value: unknown, spec: unknown): boolean {
  if (typeof value !== 'number' || !Array.isArray(spec)) return false;
  for (let i = 0; i + 1 < spec.length; i += 2) {
    const op = spec[i];
    const bound = Number(spec[i + 1]);
    const ok =
      (op === '=' && value === bound) ||
      (op === '<' && value < bound) ||
      (op === '<=' && value <= bound) ||
      (op === '>' && value > bound) ||
      (op === '>=' && value >= bound);
    if (!ok) return false;
  }
  return true;
}

function conditionMatches(condition: unknown, value: unknown, present: boolean): boolean {
  if (!isRecord(condition)) return present && value === condition;
  if ('exists' in condition) return condition.exists === present;
  if (!present) return false;
  if ('prefix' in condition) {
    return typeof value === 'string' && value.startsWith(String(condition.prefix));
  }
  if ('suffix' in condition) {
    return typeof value === 'string' && value.endsWith(String(condition.suffix));
  }
  if ('equals-ignore-case' in condition) {
    return (
      typeof value === 'string' &&
      value.toLowerCase() === String(condition['equals-ignore-case']).toLowerCase()
    );
  }
  if ('anything-but' in condition) {
    const excluded = condition['anything-but'];
    if (isRecord(excluded)) return !conditionMatches(excluded, value, present);
    const list = Array.isArray(excluded) ? excluded : [excluded];
    return !list.includes(value);
  }
  if ('numeric' in condition) return numericMatches(value, condition.numeric);
  if ('cidr' in condition) return inCidr(value, String(condition.cidr));
  return false;
}

function leafMatches(conditions: unknown, value: unknown, present: boolean): boolean {
  const list = Array.isArray(conditions) ? conditions : [conditions];
  const values = Array.isArray(value) ? value : [value];
  return list.some((condition) => {
    if (isRecord(condition) && ('exists' in condition || 'anything-but' in condition)) {
      // exists and anything-but judge the field as a whole.
      if ('exists' in condition) return conditionMatches(condition, value, present);
      return present && values.every((v) => conditionMatches(condition, v, present));
    }
    return values.some((v) => conditionMatches(condition, v, present));
  });
}

/** True when `event` matches `pattern` (an undefined pattern matches everything). */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  if (pattern === undefined || pattern === null) return true;
  if (!isRecord(pattern)) return false;
  const source = isRecord(event) ? event : {};
  for (const [key, expected] of Object.entries(pattern)) {
    const present = key in source && source[key] !== undefined;
    const value = source[key];
    if (isRecord(expected)) {
      if (!isRecord(value) || !matchesEventPattern(expected, value)) return false;
      continue;
    }
    if (!leafMatches(expected, value, present)) return false;
  }
  return true;
}

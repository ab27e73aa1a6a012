// `${...}` interpolation in s.yaml, as Serverless Devs 3 resolves it before a component sees the
// props: `${vars.a.b}`, `${env('NAME')}`, `${env('NAME', 'default')}` (an unset or empty variable
// takes the default; without one it is an error), `${config('AccountID')}` (the access's account)
// and `${this.name}` (the resource key). A value that is exactly one expression keeps the type of
// what it resolves to (a number stays a number); anywhere else the result is spliced in as text.
// Innermost expressions resolve first, so `${env('ROLE', '${vars.role}')}` works.

export interface InterpolationScope {
  vars: Record<string, unknown>;
  /** What `${env('X')}` reads (process.env by default). */
  env: Record<string, string | undefined>;
  /** What `${config('X')}` reads: the Serverless Devs access's fields, e.g. AccountID. */
  config: Record<string, string | undefined>;
  /** `${this.name}`: the key of the resource being resolved. */
  resourceName?: string;
  /** An expression that cannot be resolved throws (default), or is kept as written (the build
   *  only needs code paths and must not fail on a variable it does not use). */
  onUnresolved?: 'throw' | 'keep';
}

export class InterpolationError extends Error {
  constructor(
    readonly expression: string,
    readonly location: string,
    reason: string,
  ) {
    super(`s.yaml ${location}: cannot resolve \${${expression}}: ${reason}`);
    this.name = 'InterpolationError';
  }
}

const INNERMOST = /\$\{([^{}]*)\}/;
const INNERMOST_ALL = /\$\{([^{}]*)\}/g;
const WHOLE = /^\$\{([^{}]*)\}$/;

// A quoted string ('x' or "x"), a number, or a bare identifier (`env(X)`).
const ARGUMENT = String.raw`\s*(?:'([^']*)'|"([^"]*)"|(-?\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*))\s*`;
const CALL = new RegExp(String.raw`^\s*(env|config)\(${ARGUMENT}(?:,${ARGUMENT})?\)\s*$`);

const UNRESOLVED = Symbol('unresolved');

interface ParsedArgument {
  value: string | number;
}

function argumentAt(match: RegExpMatchArray, offset: number): ParsedArgument | undefined {
  const [single, double, numeric, bare] = [
    match[offset],
    match[offset + 1],
    match[offset + 2],
    match[offset + 3],
  ];
  if (single !== undefined) return { value: single };
  if (double !== undefined) return { value: double };
  if (numeric !== undefined) return { value: Number(numeric) };
  if (bare !== undefined) return { value: bare };
  return undefined;
}

function lookupPath(root: unknown, path: string[]): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !(key in current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Resolves one expression (the text between `${` and `}`). */
function evaluate(
  expression: string,
  scope: InterpolationScope,
  location: string,
): unknown | typeof UNRESOLVED {
  const fail = (reason: string): typeof UNRESOLVED => {
    if (scope.onUnresolved === 'keep') return UNRESOLVED;
    throw new InterpolationError(expression, location, reason);
  };
  const trimmed = expression.trim();

  const call = trimmed.match(CALL);
  if (call) {
    const fn = call[1];
    const name = argumentAt(call, 2);
    const fallback = argumentAt(call, 6);
    if (!name) return fail('missing argument');
    const key = String(name.value);
    if (fn === 'env') {
      const value = scope.env[key];
      // Serverless Devs treats an empty variable as unset.
      if (value !== undefined && value !== '') return value;
      if (fallback !== undefined) return fallback.value;
      return fail(`environment variable ${key} is not set and has no default`);
    }
    const value = scope.config[key];
    if (value !== undefined && value !== '') return value;
    return fail(`config('${key}') is not known here`);
  }

  if (/^vars(\.[A-Za-z0-9_-]+)+$/.test(trimmed)) {
    const value = lookupPath(scope.vars, trimmed.split('.').slice(1));
    if (value === undefined || value === null) return fail(`${trimmed} is not defined in vars`);
    return value;
  }
  if (trimmed === 'this.name') {
    return scope.resourceName ?? fail('this.name is only known inside a resource');
  }
  return fail(
    "unsupported expression (supported: vars.x, env('X'), env('X', 'default'), config('AccountID'), this.name)",
  );
}

function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/** Resolves the interpolations in one string value. */
export function interpolateString(
  text: string,
  scope: InterpolationScope,
  location = 'value',
): unknown {
  // Expressions left unresolved (keep mode) are parked behind private-use-character placeholders without `${`, so
  // every pass removes at least one expression and the loop ends; they are restored at the end.
  const kept: string[] = [];
  const restore = (value: string): string =>
    value.replace(/\uE000(\d+)\uE001/g, (_m, i: string) => `\${${kept[Number(i)] ?? ''}}`);
  const park = (expression: string): string => {
    kept.push(expression);
    return `\uE000${kept.length - 1}\uE001`;
  };

  let current: string = text;
  for (let pass = 0; pass < 64; pass++) {
    const whole = current.match(WHOLE);
    if (whole) {
      const expression = whole[1] ?? '';
      const value = evaluate(expression, scope, location);
      if (value === UNRESOLVED) return restore(park(expression));
      // A variable may hold further interpolations; Serverless Devs resolves them once more.
      if (typeof value === 'string' && INNERMOST.test(value)) {
        current = value;
        continue;
      }
      return typeof value === 'string' ? restore(value) : value;
    }
    if (!INNERMOST.test(current)) return restore(current);
    current = current.replace(INNERMOST_ALL, (_match, expression: string) => {
      const value = evaluate(expression, scope, location);
      return value === UNRESOLVED ? park(expression) : asText(value);
    });
  }
  throw new InterpolationError(text, location, 'interpolation does not settle (a cycle?)');
}

/** Resolves every string inside a YAML value, depth first. */
export function interpolateValue(
  value: unknown,
  scope: InterpolationScope,
  location = 'value',
): unknown {
  if (typeof value === 'string') return interpolateString(value, scope, location);
  if (Array.isArray(value)) {
    return value.map((item, index) => interpolateValue(item, scope, `${location}[${index}]`));
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = interpolateValue(item, scope, `${location}.${key}`);
    }
    return out;
  }
  return value;
}

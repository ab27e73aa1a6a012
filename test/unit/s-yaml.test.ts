// s.yaml against the fc3 component's props schema (test/fixtures/schemas/fc3-props.schema.json),
// after substituting representative values for `${...}` interpolations as Serverless Devs would.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../shared/config';
import { API_CONFIG_SECTIONS } from '../../shared/wiring/api';
import { PLANNER_CONFIG_SECTIONS, WORKER_CONFIG_SECTIONS } from '../../shared/wiring/logs';
import { MEMBERSHIP_CONFIG_SECTIONS } from '../../shared/wiring/membership';
import { SESSION_INDEX_CONFIG_SECTIONS } from '../../shared/wiring/sessions';
import { SWEEP_CONFIG_SECTIONS } from '../../shared/wiring/sweep';

const root = new URL('../../', import.meta.url);
const schema = JSON.parse(
  readFileSync(new URL('test/fixtures/schemas/fc3-props.schema.json', root), 'utf8'),
);
const raw = parse(readFileSync(new URL('s.yaml', root), 'utf8')) as {
  edition: string;
  access?: string;
  vars: Record<string, unknown>;
  resources: Record<string, { component: string; props: Record<string, unknown> }>;
};

/** What the deployer's environment would hold at `s deploy`. */
const representativeEnv: Record<string, string> = {
  AUTH_ISSUER: 'https://idp.example.com/',
  AUTH_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json',
};
const representativeConfig: Record<string, string> = { AccountID: '1234567890123456' };

/** The variables each function reads, by its config sections (kept in step with functions/). */
const functionSections: Record<string, readonly Parameters<typeof loadConfig>[1][number][]> = {
  api: API_CONFIG_SECTIONS,
  'directory-events': MEMBERSHIP_CONFIG_SECTIONS,
  reconcile: MEMBERSHIP_CONFIG_SECTIONS,
  'role-sweep': SWEEP_CONFIG_SECTIONS,
  'role-check-worker': MEMBERSHIP_CONFIG_SECTIONS,
  'log-planner': PLANNER_CONFIG_SECTIONS,
  'log-worker': WORKER_CONFIG_SECTIONS,
  'onboarding-worker': MEMBERSHIP_CONFIG_SECTIONS,
  'session-index': SESSION_INDEX_CONFIG_SECTIONS,
};

function evaluate(expression: string, vars: Record<string, unknown>): unknown {
  const call = /^(env|config)\('([^']*)'(?:,\s*'([^']*)')?\)$/.exec(expression.trim());
  if (call) {
    const [, fn, name = '', fallback] = call;
    const value = fn === 'env' ? representativeEnv[name] : representativeConfig[name];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    throw new Error(`\${${expression}} has no value and no default`);
  }
  const varPath = /^vars\.([\w.]+)$/.exec(expression.trim());
  if (varPath) {
    const value = (varPath[1] ?? '')
      .split('.')
      .reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], vars);
    if (value === undefined) throw new Error(`\${${expression}}: no such var`);
    return value;
  }
  throw new Error(`unsupported interpolation \${${expression}}`);
}

/** Resolves `${...}` innermost first; a value that is exactly one expression keeps its type. */
function resolve(value: unknown, vars: Record<string, unknown>): unknown {
  if (typeof value === 'string') {
    let text = value;
    for (;;) {
      const match = /\$\{([^{}]*)\}/.exec(text);
      if (!match) return text;
      const result = evaluate(match[1] ?? '', vars);
      if (match[0] === text) return typeof result === 'string' ? resolve(result, vars) : result;
      text = text.replace(match[0], String(result));
    }
  }
  if (Array.isArray(value)) return value.map((item) => resolve(item, vars));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, vars)]));
  }
  return value;
}

/** vars may refer to other vars: resolve those whose references are resolved, pass by pass. */
function resolveVars(rawVars: Record<string, unknown>): Record<string, unknown> {
  const resolved: Record<string, unknown> = {};
  let pending = Object.entries(rawVars);
  while (pending.length > 0) {
    const left: typeof pending = [];
    for (const [key, value] of pending) {
      try {
        resolved[key] = resolve(value, resolved);
      } catch {
        left.push([key, value]);
      }
    }
    if (left.length === pending.length)
      throw new Error(`unresolvable vars: ${left.map(([k]) => k).join(', ')}`);
    pending = left;
  }
  return resolved;
}

const vars = resolveVars(raw.vars);
const resources = Object.entries(raw.resources).map(([name, resource]) => ({
  name,
  component: resource.component,
  props: resolve(resource.props, vars) as Record<string, unknown>,
}));

const ajv = new Ajv({ allErrors: true, strict: false });
const validateProps = ajv.compile(schema);

function problems(props: unknown): string[] {
  return validateProps(props)
    ? []
    : (validateProps.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

describe('s.yaml', () => {
  it('is Serverless Devs edition 3.0.0 with resources, and no access key (s takes -a or "default")', () => {
    expect(raw.edition).toBe('3.0.0');
    // s 3.1.10 takes `access:` literally: an expression there selects no access at all.
    expect(raw.access).toBeUndefined();
    expect(resources.length).toBeGreaterThan(0);
  });

  it('resolves every interpolation', () => {
    expect(JSON.stringify(resources)).not.toContain('${');
  });

  it.each(resources.map((r) => [r.name, r] as const))(
    'resource %s: fc3 props are valid',
    (_name, resource) => {
      expect(resource.component).toBe('fc3');
      expect(problems(resource.props)).toEqual([]);
    },
  );

  it.each(resources.map((r) => [r.name, r] as const))(
    'resource %s: nodejs20, index.handler, code ./dist/<name> built from functions/<name>/index.ts',
    (name, resource) => {
      expect(resource.props.runtime).toBe('nodejs20');
      expect(resource.props.handler).toBe('index.handler');
      expect(resource.props.code).toBe(`./dist/${name}`);
      expect(existsSync(new URL(`functions/${name}/index.ts`, root))).toBe(true);
    },
  );

  it.each(resources.map((r) => [r.name, r] as const))(
    'resource %s: its environment holds every variable its function requires',
    (name, resource) => {
      const sections = functionSections[name];
      expect(
        sections,
        `config sections of function ${name} are not listed in this test`,
      ).toBeDefined();
      const env = resource.props.environmentVariables as Record<string, string>;
      expect(() => loadConfig(env, sections ?? [])).not.toThrow();
    },
  );

  it('every function folder is deployed', () => {
    const folders = readdirSync(new URL('functions/', root), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    expect(folders.sort()).toEqual(resources.map((r) => r.name).sort());
  });

  it('the API has an anonymous HTTP trigger for every method it answers (the app verifies JWTs itself, and answers 405 in its envelope)', () => {
    const api = resources.find((r) => r.name === 'api');
    expect(api?.props.triggers).toEqual([
      {
        triggerName: 'http',
        triggerType: 'http',
        triggerConfig: {
          authType: 'anonymous',
          methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
        },
      },
    ]);
  });

  it('the validation can fail: deliberately broken copies are refused', () => {
    const api = resources.find((r) => r.name === 'api');
    if (!api) throw new Error('no api resource');
    const broken = (mutate: (props: Record<string, unknown>) => void) => {
      const copy = structuredClone(api.props);
      mutate(copy);
      return problems(copy);
    };
    expect(broken((p) => (p.runtime = 'nodejs99'))).not.toEqual([]);
    expect(broken((p) => (p.memorySize = 100))).not.toEqual([]);
    expect(broken((p) => delete p.handler)).not.toEqual([]);
    expect(broken((p) => (p.environmentVariables = { PORT: 8080 }))).not.toEqual([]);
    expect(
      broken(
        (p) =>
          (p.triggers = [
            {
              triggerName: 'http',
              triggerType: 'websocket',
              triggerConfig: { authType: 'anonymous', methods: ['GET'] },
            },
          ]),
      ),
    ).not.toEqual([]);
  });
});

// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are s.yaml interpolations, not templates
import { describe, expect, it } from 'vitest';
import {
  InterpolationError,
  type InterpolationScope,
  interpolateString,
  interpolateValue,
} from '../../../../localcloud/host/interpolation';

const scope = (overrides: Partial<InterpolationScope> = {}): InterpolationScope => ({
  vars: { region: 'cn-shanghai', memory: 512, nested: { role: 'rdgov-api' }, flag: false },
  env: { STAGE: 'prod', EMPTY: '' },
  config: { AccountID: '1234567890' },
  resourceName: 'api',
  ...overrides,
});

describe('s.yaml interpolation', () => {
  it('resolves vars, including nested paths', () => {
    expect(interpolateString('${vars.region}', scope())).toBe('cn-shanghai');
    expect(interpolateString('${vars.nested.role}', scope())).toBe('rdgov-api');
  });

  it('keeps the type of a value that is exactly one expression', () => {
    expect(interpolateString('${vars.memory}', scope())).toBe(512);
    expect(interpolateString('${vars.flag}', scope())).toBe(false);
    expect(interpolateString('${vars.nested}', scope())).toEqual({ role: 'rdgov-api' });
  });

  it('splices expressions into surrounding text', () => {
    expect(
      interpolateString('acs:ram::${config("AccountID")}:role/${vars.nested.role}', scope()),
    ).toBe('acs:ram::1234567890:role/rdgov-api');
    expect(interpolateString('mem-${vars.memory}MB', scope())).toBe('mem-512MB');
  });

  it('reads env(\'X\'), env("X") and env(X) from the given environment', () => {
    expect(interpolateString("${env('STAGE')}", scope())).toBe('prod');
    expect(interpolateString('${env("STAGE")}', scope())).toBe('prod');
    expect(interpolateString('${env(STAGE)}', scope())).toBe('prod');
  });

  it('uses the default when the variable is unset or empty, as Serverless Devs does', () => {
    expect(interpolateString("${env('MISSING', 'fallback')}", scope())).toBe('fallback');
    expect(interpolateString("${env('EMPTY', 'fallback')}", scope())).toBe('fallback');
    expect(interpolateString("${env('MISSING', 30)}", scope())).toBe(30);
    expect(interpolateString("${env('MISSING', '')}", scope())).toBe('');
  });

  it('resolves an expression inside a default', () => {
    expect(interpolateString("${env('ROLE', '${vars.nested.role}')}", scope())).toBe('rdgov-api');
    expect(
      interpolateString("${env('ROLE', 'acs:ram::${config(\"AccountID\")}:role/x')}", scope()),
    ).toBe('acs:ram::1234567890:role/x');
  });

  it('resolves this.name to the resource key', () => {
    expect(interpolateString('${this.name}-fn', scope())).toBe('api-fn');
  });

  it('names the variable and the location when it cannot resolve', () => {
    expect(() => interpolateString("${env('NOPE')}", scope(), 'resources.api.props.role')).toThrow(
      /resources\.api\.props\.role: cannot resolve \$\{env\('NOPE'\)\}: environment variable NOPE is not set/,
    );
    expect(() => interpolateString('${vars.unknown}', scope())).toThrow(InterpolationError);
    expect(() => interpolateString("${config('AccessKeyID')}", scope())).toThrow(/not known/);
    expect(() => interpolateString('${resources.x.output}', scope())).toThrow(/unsupported/);
  });

  it('keeps unresolvable expressions as written in keep mode', () => {
    const keep = scope({ onUnresolved: 'keep' });
    expect(interpolateString("${env('NOPE')}", keep)).toBe("${env('NOPE')}");
    expect(interpolateString("./dist/${vars.region}/${env('NOPE')}", keep)).toBe(
      "./dist/cn-shanghai/${env('NOPE')}",
    );
  });

  it('walks objects and arrays', () => {
    expect(
      interpolateValue({ a: ['${vars.region}', { b: '${vars.memory}' }], c: 3, d: null }, scope()),
    ).toEqual({ a: ['cn-shanghai', { b: 512 }], c: 3, d: null });
  });

  it('leaves text without expressions alone', () => {
    expect(interpolateString('plain $ text {with braces}', scope())).toBe(
      'plain $ text {with braces}',
    );
  });
});

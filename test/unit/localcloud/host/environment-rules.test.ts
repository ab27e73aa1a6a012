// Function Compute's environment variable rules as the local host enforces them: s.yaml's
// `environmentVariables` with a reserved FC_ key, a malformed key, or more than 4 KB in total
// stop the host with a message naming the function and the variable.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  checkFunctionEnvironment,
  environmentBytes,
  FunctionEnvironmentError,
  MAX_ENVIRONMENT_BYTES,
} from '../../../../localcloud/host/environment-rules';
import { loadServerlessSpec } from '../../../../localcloud/host/s-yaml';

const PROJECT_S_YAML = fileURLToPath(new URL('../../../../s.yaml', import.meta.url));

/** What the deployer's environment holds at `s deploy` (README "Deploying"). */
const deployEnv = {
  AUTH_ISSUER: 'https://idp.example.com/',
  AUTH_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json',
};

function refusal(variables: Record<string, string>): FunctionEnvironmentError {
  try {
    checkFunctionEnvironment('fn-under-test', variables);
  } catch (error) {
    if (error instanceof FunctionEnvironmentError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe("Function Compute's environment variable rules", () => {
  it("the project's s.yaml passes them for every function", () => {
    const spec = loadServerlessSpec(PROJECT_S_YAML, {
      env: deployEnv,
      config: { AccountID: '1234567890123456' },
    });
    expect(spec.functions.length).toBeGreaterThan(0);
    for (const fn of spec.functions) {
      expect(() => checkFunctionEnvironment(fn.name, fn.environmentVariables)).not.toThrow();
      // Room left for a ROLE_CATALOG_EXTRA of a few entries.
      expect(environmentBytes(fn.environmentVariables)).toBeLessThan(MAX_ENVIRONMENT_BYTES / 2);
    }
  });

  it('refuses a key with the reserved FC_ prefix, naming function and variable', () => {
    const error = refusal({ LOG_LEVEL: 'info', FC_ENDPOINT: 'fc.example' });
    expect(error.functionName).toBe('fn-under-test');
    expect(error.variable).toBe('FC_ENDPOINT');
    expect(error.message).toMatch(
      /^fn-under-test: environment variable FC_ENDPOINT uses the prefix FC_/,
    );
  });

  it.each(['1ST', '_LEADING', 'WITH-DASH', 'WITH.DOT', 'ÜMLAUT', 'SPACE D', ''])(
    'refuses the key %j',
    (key) => {
      const error = refusal({ OK: 'x', [key]: 'value' });
      expect(error.variable).toBe(key);
      expect(error.message).toContain('must start with a letter');
    },
  );

  it('accepts keys of letters, digits and underscores starting with a letter', () => {
    expect(() => checkFunctionEnvironment('f', { a: '1', Z_9: '2' })).not.toThrow();
  });

  it('counts the variables as the JSON object FC receives, in UTF-8 bytes', () => {
    expect(environmentBytes({})).toBe(2);
    expect(environmentBytes({ A: 'b' })).toBe('{"A":"b"}'.length);
    expect(environmentBytes({ A: 'é' })).toBe(10);
    expect(environmentBytes({ A: '"' })).toBe('{"A":"\\""}'.length);
  });

  it('accepts exactly 4 KB and refuses one byte more, naming the largest variable', () => {
    const base = { LOG_LEVEL: 'info', ROLE_CATALOG_EXTRA: '' };
    const filler = MAX_ENVIRONMENT_BYTES - environmentBytes(base);
    const atLimit = { ...base, ROLE_CATALOG_EXTRA: 'x'.repeat(filler) };
    expect(environmentBytes(atLimit)).toBe(MAX_ENVIRONMENT_BYTES);
    expect(() => checkFunctionEnvironment('f', atLimit)).not.toThrow();

    const error = refusal({ ...base, ROLE_CATALOG_EXTRA: 'x'.repeat(filler + 1) });
    expect(error.variable).toBe('ROLE_CATALOG_EXTRA');
    expect(error.message).toContain('4097 bytes');
    expect(error.message).toContain("over Function Compute's limit of 4096 bytes");
  });
});

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { interpolateValue } from '../../../../localcloud/host/interpolation';
import {
  loadServerlessSpec,
  readServerlessSpec,
  ServerlessSpecError,
} from '../../../../localcloud/host/s-yaml';

const fixture = fileURLToPath(new URL('../../../fixtures/host-app/s.yaml', import.meta.url));
const schemaPath = new URL('../../../fixtures/schemas/fc3-props.schema.json', import.meta.url);

describe('s.yaml reader', () => {
  const spec = loadServerlessSpec(fixture, {
    env: { HOST_APP_REGION: 'cn-shanghai' },
    config: { AccountID: '1000000000000001' },
  });

  it('finds every fc3 function with its props resolved', () => {
    expect(spec.functions.map((f) => f.name)).toEqual([
      'host-http',
      'host-timer',
      'host-events',
      'host-logs',
    ]);
    const http = spec.functions[0];
    expect(http).toMatchObject({
      resourceName: 'host-http',
      region: 'cn-shanghai',
      runtime: 'nodejs20',
      handler: 'index.handler',
      handlerModule: 'index',
      handlerExport: 'handler',
      timeoutSeconds: 2,
      memorySize: 256,
      instanceConcurrency: 1,
      role: 'acs:ram::1000000000000001:role/host-app-function',
      environmentVariables: { GREETING: 'hello from s.yaml', LOG_LEVEL: 'info' },
    });
  });

  it('maps code ./dist/<name> back to functions/<name>/index.ts', () => {
    const http = spec.functions[0];
    expect(http?.codeDir).toMatch(/test\/fixtures\/host-app\/dist\/host-http$/);
    expect(http?.sourceEntry).toMatch(/test\/fixtures\/host-app\/functions\/host-http\/index\.ts$/);
    expect(http?.bundleFile).toMatch(/dist\/host-http\/index\.mjs$/);
  });

  it('reads the triggers of each kind', () => {
    const [http, timer, events] = spec.functions;
    expect(http?.triggers).toEqual([
      {
        type: 'http',
        name: 'http',
        methods: ['GET', 'POST', 'PUT', 'DELETE'],
        authType: 'anonymous',
      },
    ]);
    expect(timer?.triggers).toEqual([
      {
        type: 'timer',
        name: 'every-five-minutes',
        cronExpression: 'CRON_TZ=Asia/Shanghai 0 */5 * * * *',
        enable: true,
        payload: '{"job":"reconcile"}',
      },
      {
        type: 'timer',
        name: 'nightly-disabled',
        cronExpression: '0 0 3 ? * *',
        enable: false,
        payload: '',
      },
    ]);
    expect(events?.triggers[0]).toMatchObject({
      type: 'eventbridge',
      name: 'rd-account-events',
      enable: true,
      eventSourceType: 'Default',
      filterPattern: { source: ['acs.resourcemanager'] },
    });
  });

  it('applies FC defaults for timeout and memory', () => {
    const minimal = readServerlessSpec(
      {
        resources: {
          f: {
            component: 'fc3',
            props: {
              functionName: 'f',
              runtime: 'nodejs20',
              code: './dist/f',
              handler: 'index.handler',
            },
          },
        },
      },
      '/tmp/s.yaml',
    );
    expect(minimal.functions[0]).toMatchObject({
      timeoutSeconds: 3,
      memorySize: 512,
      role: undefined,
    });
  });

  it('says what is wrong and where', () => {
    const bad = (props: Record<string, unknown>) => () =>
      readServerlessSpec({ resources: { f: { component: 'fc3', props } } }, '/tmp/s.yaml');
    expect(bad({ runtime: 'nodejs20', code: './dist/f' })).toThrow(/functionName is required/);
    expect(bad({ functionName: 'f', handler: 'nodot', code: './dist/f' })).toThrow(
      /handler "nodot" must be <module>.<export>/,
    );
    expect(bad({ functionName: 'f', code: './dist/f', timeout: 'soon' })).toThrow(
      ServerlessSpecError,
    );
    expect(
      bad({
        functionName: 'f',
        code: './dist/f',
        triggers: [
          {
            triggerName: 't',
            triggerType: 'eventbridge',
            triggerConfig: { eventRuleFilterPattern: '{nope' },
          },
        ],
      }),
    ).toThrow(/eventRuleFilterPattern is not JSON/);
  });

  it('ignores resources of other components', () => {
    const other = readServerlessSpec(
      { resources: { bucket: { component: 'oss', props: { bucket: 'x' } } } },
      '/tmp/s.yaml',
    );
    expect(other.functions).toEqual([]);
  });
});

describe('the host fixture s.yaml', () => {
  it('is valid against the fc3 props schema once interpolated', () => {
    const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as object;
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const document = parse(readFileSync(fixture, 'utf8')) as {
      vars: Record<string, unknown>;
      resources: Record<string, { props: unknown }>;
    };
    const scope = {
      vars: {},
      env: {},
      config: { AccountID: '1000000000000001' },
    };
    const vars = interpolateValue(document.vars, scope) as Record<string, unknown>;
    for (const [name, resource] of Object.entries(document.resources)) {
      const props = interpolateValue(resource.props, { ...scope, vars, resourceName: name });
      const valid = validate(props);
      expect(validate.errors ?? [], `${name}: ${JSON.stringify(validate.errors)}`).toEqual([]);
      expect(valid).toBe(true);
    }
  });
});

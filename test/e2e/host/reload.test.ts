// A changed source file takes effect without a manual rebuild (watch mode, as under npm start).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FunctionHost, startFunctionHost } from '../../../localcloud/host/index';
import { eventually, LogCapture, offlineCloudEnv } from '../../support/function-host';

const S_YAML = `edition: 3.0.0
name: reload-app
resources:
  greeter:
    component: fc3
    props:
      region: cn-hangzhou
      functionName: greeter
      runtime: nodejs20
      code: ./dist/greeter
      handler: index.handler
      timeout: 5
      triggers:
        - triggerName: http
          triggerType: http
          triggerConfig:
            authType: anonymous
            methods: [GET]
`;

const HANDLER = `import { message } from '../../shared/message';
export async function handler() {
  return { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: message() + ' pid=' + process.pid };
}
`;

const message = (text: string) =>
  `export function message(): string { return ${JSON.stringify(text)}; }\n`;

describe('function host in watch mode', () => {
  let dir: string;
  let host: FunctionHost;
  const output = new LogCapture();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rdg-host-reload-'));
    mkdirSync(join(dir, 'functions', 'greeter'), { recursive: true });
    mkdirSync(join(dir, 'shared'), { recursive: true });
    writeFileSync(join(dir, 's.yaml'), S_YAML);
    writeFileSync(join(dir, 'functions', 'greeter', 'index.ts'), HANDLER);
    writeFileSync(join(dir, 'shared', 'message.ts'), message('first'));
    host = await startFunctionHost({
      sYamlPath: join(dir, 's.yaml'),
      cloud: offlineCloudEnv(),
      watch: true,
      log: output.log,
    });
  });

  afterAll(async () => {
    await host?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const answer = async () => (await fetch(`${host.apiUrl}/`)).text();

  it('serves the change of an imported source file without a rebuild command', async () => {
    const before = await answer();
    expect(before).toMatch(/^first pid=\d+$/);

    writeFileSync(join(dir, 'shared', 'message.ts'), message('second'));
    await eventually(async () => (await answer()).startsWith('second'), 15_000, 'the new answer');
    const after = await answer();
    // A fresh instance runs the new build.
    expect(after.split('pid=')[1]).not.toBe(before.split('pid=')[1]);
    await output.waitFor(/\[greeter\] sources changed: rebuilt/);
  });

  it('keeps serving the last good build while the sources do not compile, then picks up the fix', async () => {
    writeFileSync(join(dir, 'shared', 'message.ts'), 'export function message( { return ;\n');
    await output.waitFor(/\[greeter\] build failed; still serving the previous build/, 15_000);
    expect(await answer()).toMatch(/^second/);

    writeFileSync(join(dir, 'shared', 'message.ts'), message('third'));
    await eventually(async () => (await answer()).startsWith('third'), 15_000, 'the fixed answer');
  });
});

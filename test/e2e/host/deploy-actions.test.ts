// s.yaml's post-deploy actions run at local start as `s deploy` runs them after a deployment:
// the repo's action creates the store's tables in the local cloud before the functions serve,
// and a failing action stops the start, naming the resource and the command.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_TABLESTORE_INSTANCE } from '../../../localcloud';
import { type LocalSystem, startLocalSystem } from '../../../localcloud/system';
import { createTablestoreClient } from '../../../shared/cloud/tablestore';
import { CURSOR_SIGNING_KEY, storeTableDefinitions, storeTables } from '../../../shared/store';

describe('deploy actions at local start', () => {
  const systems: LocalSystem[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'rdg-actions-'));
  afterAll(async () => {
    for (const system of systems) await system.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("creates the store's tables through the repo's post-deploy action", async () => {
    const lines: string[] = [];
    const system = await startLocalSystem({
      port: 0,
      envFile: false,
      deployActions: true,
      log: (line) => lines.push(line),
    });
    systems.push(system);

    const management = system.env.accounts.find((a) => a.kind === 'management')!;
    const client = createTablestoreClient({
      endpoint: system.cloud.url,
      instanceName: DEFAULT_TABLESTORE_INSTANCE,
      credentials: () => ({
        accessKeyId: management.accessKeyId,
        accessKeySecret: management.accessKeySecret,
      }),
    });
    const tables = await client.listTables();
    const expected = storeTableDefinitions().map((definition) => definition.name);
    expect(expected.length).toBeGreaterThan(0);
    for (const name of expected) expect(tables).toContain(name);
    expect(lines.join('\n')).toMatch(/setup-tables: instance rdgov: created \d+/);
    // ... and the deployment's cursor signing key, which it does not print.
    expect(lines.join('\n')).toContain('cursor signing key created');
    const keys = storeTables().keys;
    const row = await client.getRow(keys.name, keys.key({ keyName: CURSOR_SIGNING_KEY }));
    const secret = row ? keys.decode(row).secret : '';
    expect(Buffer.from(secret, 'base64')).toHaveLength(32);
    expect(lines.join('\n')).not.toContain(secret);
    // The deployer's secret is handed to the action, never printed by it.
    expect(lines.join('\n')).not.toContain(management.accessKeySecret);
  }, 60_000);

  it('stops the start when an action fails, naming the resource and command', async () => {
    const sYaml = join(scratch, 's.yaml');
    writeFileSync(
      sYaml,
      [
        'edition: 3.0.0',
        'name: failing-action',
        'resources:',
        '  broken:',
        '    component: fc3',
        '    actions:',
        '      post-deploy:',
        '        - run: echo preparing && exit 3',
        '          path: ./',
        '    props:',
        '      region: cn-hangzhou',
        '      functionName: broken',
        '      runtime: nodejs20',
        '      code: ./dist/broken',
        '      handler: index.handler',
        '',
      ].join('\n'),
    );
    const lines: string[] = [];
    await expect(
      startLocalSystem({
        port: 0,
        envFile: false,
        sYamlPath: sYaml,
        deployActions: true,
        log: (line) => lines.push(line),
      }),
    ).rejects.toThrow(
      'post-deploy action of resource broken failed (exit 3): echo preparing && exit 3',
    );
    expect(lines).toContain('[broken post-deploy] preparing');
  }, 30_000);
});

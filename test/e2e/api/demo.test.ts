// What `npm start` serves: the demo organization through the functions, set up as `npm start`
// does (post-deploy table setup, functions bundled in watch mode).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSystem } from '../../../localcloud/system';
import type { FolderNode } from '../../../shared/directory/model';
import { directoryResponseSchema } from '../../../shared/http/directory-routes';
import {
  membersResponseSchema,
  runProgressSchema,
  scopeChangeResponseSchema,
} from '../../../shared/http/membership-routes';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
let system: Awaited<ReturnType<typeof startLocalSystem>>;
let scratch: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'rdg-demo-'));
  system = await startLocalSystem({
    port: 0,
    // As npm start writes .localcloud/env.json (the typed client's example reads it).
    envFile: join(scratch, 'env.json'),
    watch: true,
    deployActions: true,
    log: () => {},
    host: { schedule: false, log: () => {} },
  });
}, 90_000);
afterAll(async () => {
  await system?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('the demo organization', () => {
  it('GET /v1/directory answers with 24+ members in a folder tree at least 3 deep', async () => {
    const response = await fetch(new URL('/v1/directory', system.host.apiUrl), {
      headers: { authorization: `Bearer ${system.host.tokens.operator}` },
    });
    expect(response.status).toBe(200);
    const directory = directoryResponseSchema.parse(await response.json());
    expect(directory.members.length).toBeGreaterThanOrEqual(24);
    const depth = (node: FolderNode): number => 1 + Math.max(0, ...node.children.map(depth));
    expect(depth(directory.root)).toBeGreaterThanOrEqual(4); // Root + 3 levels
    expect(new Set(directory.members.map((m) => m.joinMethod))).toEqual(
      new Set(['created', 'invited']),
    );
    expect(directory.delegatedAdministrators.length).toBeGreaterThanOrEqual(1);
  });
});

describe('the post-deploy actions', () => {
  it("made log integration's central project and Logstore in the functions' account and region", () => {
    const management = system.env.accounts.find((a) => a.kind === 'management');
    const { model } = system.cloud.sls;
    const project = model.findProject('cn-hangzhou', `rdgov-logs-${management?.id}-cn-hangzhou`);
    expect(project?.owner).toBe(management?.id);
    expect(project?.logstores.has('rdgov-integrated-logs')).toBe(true);
  });
});

describe('the demo organization under management', () => {
  it('a directory scope onboards every member; sandbox-bob is unreachable with its role ARN', async () => {
    const headers = {
      authorization: `Bearer ${system.host.tokens.operator}`,
      'content-type': 'application/json',
    };
    const added = await fetch(new URL('/v1/scopes', system.host.apiUrl), {
      method: 'POST',
      headers,
      body: JSON.stringify({ kind: 'directory', services: ['security-center'] }),
    });
    // Stored and answered at once; the onboarding goes on in rdgov-onboarding-worker.
    expect(added.status).toBe(202);
    const { run } = scopeChangeResponseSchema.parse(await added.json());
    expect(added.headers.get('location')).toBe(`/v1/reconcile/runs/${run.runId}`);
    await system.asyncInvocations.drain();
    const progress = await fetch(new URL(`/v1/reconcile/runs/${run.runId}`, system.host.apiUrl), {
      headers,
    });
    expect(runProgressSchema.parse(await progress.json())).toMatchObject({
      state: 'finished',
      pending: 0,
      failed: 1,
    });
    const members = await fetch(new URL('/v1/members', system.host.apiUrl), { headers });
    const body = membersResponseSchema.parse(await members.json());
    expect(body.members.length).toBeGreaterThanOrEqual(20);
    const unreachable = body.members.filter((m) => m.status !== 'managed');
    expect(unreachable.map((m) => m.displayName)).toEqual(['Sandbox Bob']);
    expect(unreachable[0]?.failure?.roleArn).toMatch(
      /^acs:ram::\d{16}:role\/ResourceDirectoryAccountAccessRole$/,
    );
  });
});

describe('the typed client', () => {
  it("README's example is client/example.ts: it lists every managed member and searches sessions", async () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const example = readFileSync(join(REPO, 'client/example.ts'), 'utf8');
    expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``);
    // Runs after the directory scope above: the members are managed.
    // Not spawnSync: the stack serves from this process.
    const run = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'client/example.ts'],
      {
        cwd: REPO,
        env: { ...process.env, RDGOV_ENV_FILE: join(scratch, 'env.json') },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    const lines = run.stdout.trim().split('\n');
    // Members, then the first member's scopes, then its sessions (none in the demo) and the count.
    const listed = lines.slice(0, -2).map((line) => line.split(' ')[0]);
    expect(listed.length).toBeGreaterThanOrEqual(20);
    expect(listed).toEqual([...listed].sort());
    expect(lines.find((line) => line.includes('Sandbox Bob'))).toMatch(
      /^\d{16} unreachable Root\/NonProduction\/Staging\/Sandbox Sandbox Bob$/,
    );
    expect(lines.at(-2)).toMatch(new RegExp(`^${listed[0]} covered by directory:rd-\\w+$`));
    expect(lines.at(-1)).toMatch(new RegExp(`^${listed[0]}: 0 SSH sessions since \\d{4}-`));
  });
});

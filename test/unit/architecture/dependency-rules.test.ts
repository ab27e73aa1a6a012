// The import rules of .dependency-cruiser.cjs (run by `npm run deps` in `npm test`), each broken
// on purpose: a small tree in a temporary directory laid out like the repository gets one
// forbidden import, and the cruiser, with the project's own rules, must report exactly that rule
// for exactly that import. A tree that keeps every rule (the imports the layers are allowed)
// must report nothing. So a rule that stops matching (a renamed folder, a typo in a pattern)
// fails here instead of passing silently.

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type IConfiguration } from 'dependency-cruiser';
import { afterEach, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const config = createRequire(import.meta.url)(
  join(repo, '.dependency-cruiser.cjs'),
) as IConfiguration;

type Tree = Record<string, string>;
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Writes `tree` to a fresh directory with the repository's packages, and cruises it. */
async function violations(tree: Tree): Promise<Array<{ rule: string; from: string; to: string }>> {
  const dir = mkdtempSync(join(tmpdir(), 'rdg-deps-'));
  dirs.push(dir);
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir');
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'rules', type: 'module', dependencies: { zod: '*', hono: '*' } }),
  );
  for (const [path, text] of Object.entries(tree)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const roots = [...new Set(Object.keys(tree).map((path) => path.split('/')[0] ?? path))];
  const { tsConfig: _repoTsConfig, ...options } = config.options ?? {};
  const result = await cruise(roots, {
    ...options,
    baseDir: dir,
    validate: true,
    ruleSet: { forbidden: config.forbidden ?? [] },
  });
  if (typeof result.output === 'string') throw new Error('expected a cruise result object');
  return result.output.summary.violations.map((v) => ({
    rule: v.rule.name,
    from: v.from,
    to: v.cycle ? v.cycle.map((c) => c.name).join(' -> ') : v.to,
  }));
}

const exported = 'export const value = 1;\n';
const use = (from: string) => `import { value } from '${from}';\nexport const used = value;\n`;

/** Every rule, and one import that breaks it (`also`: other rules the same import breaks). */
const broken: Array<{ rule: string; also?: string; tree: Tree; from: string; to: string }> = [
  {
    rule: 'localcloud-independent',
    tree: { 'localcloud/server.ts': use('../shared/codec'), 'shared/codec.ts': exported },
    from: 'localcloud/server.ts',
    to: 'shared/codec.ts',
  },
  {
    rule: 'localcloud-independent',
    tree: { 'localcloud/host/build.ts': use('../../scripts/build'), 'scripts/build.ts': exported },
    from: 'localcloud/host/build.ts',
    to: 'scripts/build.ts',
  },
  {
    rule: 'capability-no-infrastructure',
    tree: {
      'shared/onboarding/membership.ts': use('../store/members'),
      'shared/store/members.ts': exported,
    },
    from: 'shared/onboarding/membership.ts',
    to: 'shared/store/members.ts',
  },
  {
    rule: 'capability-no-infrastructure',
    tree: {
      'shared/logs/pull.ts': use('../cloud/sls/client'),
      'shared/cloud/sls/client.ts': exported,
    },
    from: 'shared/logs/pull.ts',
    to: 'shared/cloud/sls/client.ts',
  },
  {
    rule: 'capability-no-infrastructure',
    tree: {
      'shared/sessions/search.ts': use('../http/app'),
      'shared/http/app.ts': exported,
    },
    from: 'shared/sessions/search.ts',
    to: 'shared/http/app.ts',
  },
  {
    rule: 'capability-no-infrastructure',
    also: 'wiring-is-the-root',
    tree: {
      'shared/roles/sweep.ts': use('../wiring/membership'),
      'shared/wiring/membership.ts': exported,
    },
    from: 'shared/roles/sweep.ts',
    to: 'shared/wiring/membership.ts',
  },
  {
    rule: 'capability-no-npm-but-zod',
    tree: { 'shared/directory/tree.ts': "import { Hono } from 'hono';\nexport const h = Hono;\n" },
    from: 'shared/directory/tree.ts',
    to: 'node_modules/hono/dist/types/index.d.ts',
  },
  {
    rule: 'capability-uses-others-through-model-and-ports',
    tree: {
      'shared/roles/service-linked-roles.ts': use('../onboarding/membership'),
      'shared/onboarding/membership.ts': exported,
    },
    from: 'shared/roles/service-linked-roles.ts',
    to: 'shared/onboarding/membership.ts',
  },
  {
    rule: 'domain-is-the-bottom',
    tree: {
      'shared/domain/caller.ts': use('../onboarding/model'),
      'shared/onboarding/model.ts': exported,
    },
    from: 'shared/domain/caller.ts',
    to: 'shared/onboarding/model.ts',
  },
  {
    rule: 'adapters-implement-ports',
    tree: {
      'shared/store/members.ts': use('../onboarding/membership'),
      'shared/onboarding/membership.ts': exported,
    },
    from: 'shared/store/members.ts',
    to: 'shared/onboarding/membership.ts',
  },
  {
    rule: 'adapters-implement-ports',
    tree: {
      'shared/cloud/ram/member-roles.ts': use('../../roles/service-linked-roles'),
      'shared/roles/service-linked-roles.ts': exported,
    },
    from: 'shared/cloud/ram/member-roles.ts',
    to: 'shared/roles/service-linked-roles.ts',
  },
  {
    rule: 'http-no-infrastructure',
    tree: { 'shared/http/routes.ts': use('../store/index'), 'shared/store/index.ts': exported },
    from: 'shared/http/routes.ts',
    to: 'shared/store/index.ts',
  },
  {
    rule: 'http-no-infrastructure',
    tree: {
      'shared/http/api.ts': use('../cloud/fc/invoke'),
      'shared/cloud/fc/invoke.ts': exported,
    },
    from: 'shared/http/api.ts',
    to: 'shared/cloud/fc/invoke.ts',
  },
  {
    rule: 'wiring-is-the-root',
    tree: { 'shared/runtime/function.ts': use('../wiring/api'), 'shared/wiring/api.ts': exported },
    from: 'shared/runtime/function.ts',
    to: 'shared/wiring/api.ts',
  },
  {
    rule: 'functions-are-thin',
    tree: {
      'functions/reconcile/index.ts': use('../../shared/onboarding/handlers'),
      'shared/onboarding/handlers.ts': exported,
    },
    from: 'functions/reconcile/index.ts',
    to: 'shared/onboarding/handlers.ts',
  },
  {
    rule: 'deploy-build-without-emulator',
    tree: {
      'scripts/build.ts': use('../localcloud/host/s-yaml'),
      'localcloud/host/s-yaml.ts': exported,
    },
    from: 'scripts/build.ts',
    to: 'localcloud/host/s-yaml.ts',
  },
  {
    rule: 'bundling-stands-alone',
    tree: {
      'bundling/function-bundle.ts': use('../localcloud/host/s-yaml'),
      'localcloud/host/s-yaml.ts': exported,
    },
    from: 'bundling/function-bundle.ts',
    to: 'localcloud/host/s-yaml.ts',
  },
  {
    rule: 'client-stands-alone',
    tree: { 'client/index.ts': use('../shared/http/openapi'), 'shared/http/openapi.ts': exported },
    from: 'client/index.ts',
    to: 'shared/http/openapi.ts',
  },
  {
    rule: 'application-not-tooling',
    tree: { 'shared/config.ts': use('../test/support/env'), 'test/support/env.ts': exported },
    from: 'shared/config.ts',
    to: 'test/support/env.ts',
  },
];

describe('the dependency rules', () => {
  it('name every rule the configuration has, so none goes untested', () => {
    const tested = new Set([...broken.map((b) => b.rule), 'no-cycles']);
    expect((config.forbidden ?? []).map((rule) => rule.name).sort()).toEqual([...tested].sort());
  });

  it.each(broken)('$rule: $from -> $to is reported', async ({ rule, also, tree, from, to }) => {
    const found = await violations(tree);
    // npm packages resolve through the temporary tree's node_modules link to the repository's.
    const reported = found.map((v) => ({
      ...v,
      to: v.to.replace(/^.*\/node_modules\//, 'node_modules/'),
    }));
    expect(reported).toEqual([rule, ...(also ? [also] : [])].map((r) => ({ rule: r, from, to })));
  });

  it('no-cycles: a cycle through type-only imports is reported', async () => {
    const found = await violations({
      'shared/http/routes.ts':
        "import type { Use } from '../http/use';\nexport type Route = Use;\nexport const route = 1;\n",
      'shared/http/use.ts':
        "import type { Route } from './routes';\nexport type Use = Route | 1;\n",
    });
    expect(found.map((v) => v.rule)).toEqual(['no-cycles']);
    expect(found[0]?.to).toMatch(
      /shared\/http\/(use|routes)\.ts -> shared\/http\/(routes|use)\.ts/,
    );
  });

  it('allow what the layers may import', async () => {
    expect(
      await violations({
        'functions/api/index.ts':
          "import { define } from '../../shared/runtime/function';\nimport { api } from '../../shared/wiring/api';\nexport const handler = define(api);\n",
        'shared/runtime/function.ts': 'export const define = (x: unknown) => x;\n',
        'shared/wiring/api.ts':
          "import { routes } from '../http/routes';\nimport { store } from '../store/members';\nimport { sts } from '../cloud/sts/client';\nexport const api = [routes, store, sts];\n",
        'shared/http/routes.ts':
          "import { membership } from '../onboarding/membership';\nexport const routes = membership;\n",
        'shared/onboarding/membership.ts':
          "import { z } from 'zod';\nimport type { Caller } from '../domain/caller';\nimport type { Account } from '../directory/ports';\nimport { mapAll } from '../runtime/concurrency';\nexport const membership = [z, mapAll];\nexport type M = Caller | Account;\n",
        'shared/onboarding/model.ts': 'export interface Member { id: string }\n',
        'shared/onboarding/ports.ts':
          "import type { Member } from './model';\nexport interface Members { get(): Member }\n",
        'shared/roles/report.ts':
          "import type { Member } from '../onboarding/model';\nexport const report = (m: Member) => m;\n",
        'shared/directory/ports.ts': 'export interface Account { id: string }\n',
        'shared/domain/caller.ts': 'export interface Caller { id: string }\n',
        'shared/runtime/concurrency.ts': 'export const mapAll = 1;\n',
        'shared/store/members.ts':
          "import type { Members } from '../onboarding/ports';\nimport type { Member } from '../onboarding/model';\nexport const store: Partial<Members> & Partial<Member> = {};\n",
        'shared/cloud/sts/client.ts':
          "import type { Caller } from '../../domain/caller';\nexport const sts: Partial<Caller> = {};\n",
        'scripts/build.ts':
          "import { recipe } from '../bundling/function-bundle';\nexport const build = recipe;\n",
        'bundling/function-bundle.ts': 'export const recipe = 1;\n',
        'localcloud/host/bundler.ts':
          "import { recipe } from '../../bundling/function-bundle';\nexport const bundler = recipe;\n",
      }),
    ).toEqual([]);
  });
});

// Fuzzing the API through the function host from its OpenAPI document (test/support/api-fuzz.ts):
// valid and invalid requests, 0 answers 5xx, every answer as the document says (every 4xx the
// envelope), and after every refused request every table of the store, the activity log among
// them, as it was. `npm test` sends RDG_FUZZ_REQUESTS (default 500) requests; `npm run fuzz`
// sends 10,000 and prints the counts by status. A failure prints the seed and the request:
// RDG_FUZZ_SEED=<seed> repeats the run.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSigningKey, storeTables } from '../../../shared/store';
import { ensureStoreSearchIndexes } from '../../../shared/store/tables';
import { type FuzzContext, runFuzz } from '../../support/api-fuzz';
import { managementTablestore } from '../../support/local-store';
import { type MembershipSystem, startMembershipSystem } from '../../support/membership-system';
import { memberId, testOrganization } from '../../support/organization';

const COUNT = Number(process.env.RDG_FUZZ_REQUESTS ?? 500);
const SEED = Number(process.env.RDG_FUZZ_SEED ?? Date.now() % 2 ** 31);

let env: MembershipSystem;
let context: FuzzContext;

beforeAll(async () => {
  env = await startMembershipSystem(testOrganization({ members: 6 }));
  // As s.yaml's post-deploy action does (setup:tables): the cursor signing key exists.
  await ensureSigningKey(managementTablestore(env.system.env), storeTables());
  // and the search indexes exist (the session search answers before any session is indexed).
  await ensureStoreSearchIndexes(managementTablestore(env.system.env));
  const added = await env.call('POST', '/v1/scopes', {
    body: { kind: 'account', targetId: memberId(1) },
  });
  expect(added.status).toBe(202);
  await env.system.asyncInvocations.drain();
  const snapshot = env.system.cloud.organization.snapshot();
  const foreign = await env.system.host.tokens.mint({
    sub: 'someone',
    roles: ['operator'],
    aud: 'another-api',
  });
  context = {
    known: {
      accountId: [memberId(1), memberId(2), memberId(5)],
      scopeId: [`account:${memberId(1)}`, `folder:${snapshot.folders[1]?.id ?? 'fd-none'}`],
    },
    tokens: {
      operator: env.system.host.tokens.operator,
      viewer: env.system.host.tokens.viewer,
      foreign,
    },
  };
}, 90_000);
afterAll(async () => {
  await env?.stop();
});

describe('fuzzing from the OpenAPI document', () => {
  it(
    `${COUNT} requests: no 5xx, every answer as documented, refused requests change nothing`,
    async () => {
      const outcome = await runFuzz({
        apiUrl: env.system.host.apiUrl,
        client: managementTablestore(env.system.env),
        context,
        count: COUNT,
        seed: SEED,
        settle: () => env.system.asyncInvocations.drain(),
      });
      const summary = `seed ${SEED}: ${outcome.requests} requests; by status ${JSON.stringify(outcome.byStatus)}; by kind ${JSON.stringify(outcome.byKind)}`;
      console.log(`api fuzz ${summary}`);
      if (outcome.failure) {
        const { index, request, status, body, problem } = outcome.failure;
        expect.fail(
          `request #${index} (seed ${SEED}, RDG_FUZZ_SEED=${SEED} RDG_FUZZ_REQUESTS=${index + 1} repeats it): ${problem}\n${request.method} ${request.path}\nheaders ${JSON.stringify({ ...request.headers, authorization: request.headers.authorization?.slice(0, 20) })}\nbody ${request.body ?? '(none)'}\n-> ${status} ${body}`,
        );
      }
      expect(outcome.requests).toBe(COUNT);
      expect(Object.keys(outcome.byStatus).some((s) => s.startsWith('2'))).toBe(true);
      expect(Object.keys(outcome.byStatus).some((s) => s.startsWith('4'))).toBe(true);
    },
    Math.max(600_000, COUNT * 250),
  );
});

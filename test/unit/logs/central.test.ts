// The central Logstore setup: project first (with its description), then the Logstore with the
// configured TTL and shards; idempotent, an existing one reported as such and left as it is.

import { expect, it } from 'vitest';
import { ensureCentralLogstore } from '../../../shared/logs/central';
import { InMemoryLogstoreAdministration } from '../../support/log-member-fakes';

const address = { project: 'rdg-central', logstore: 'integrated' };

it('creates the project then the Logstore, and reports existing ones on a second run', async () => {
  const admin = new InMemoryLogstoreAdministration();
  expect(await ensureCentralLogstore(admin, address, { ttlDays: 90, shardCount: 4 })).toEqual({
    project: 'created',
    logstore: 'created',
  });
  expect(admin.calls).toEqual([
    'createProject rdg-central',
    'createLogstore rdg-central/integrated',
  ]);
  expect(admin.projects.get('rdg-central')).toBe(
    'rd-governance: logs integrated from member accounts',
  );
  expect(admin.logstores.get('rdg-central/integrated')).toEqual({ ttlDays: 90, shardCount: 4 });
  expect(await ensureCentralLogstore(admin, address, { ttlDays: 1, shardCount: 1 })).toEqual({
    project: 'exists',
    logstore: 'exists',
  });
  expect(admin.logstores.get('rdg-central/integrated')).toEqual({ ttlDays: 90, shardCount: 4 });
});

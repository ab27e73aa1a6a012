// Creates the store's Tablestore tables and indexes, then its search indexes, idempotently:
// missing ones are created, existing ones verified (a table whose primary key differs, or a
// search index whose schema differs from its declaration's version, stops the setup, naming
// it); search index versions a newer declaration replaced are deleted once it has synced; then
// the deployment's cursor signing key, if there is none yet (shared/store/signing-keys.ts says
// why it lives there; it is never printed).
// Run by s.yaml's post-deploy action on `s deploy`, and by the local function host on
// `npm start`, with the deployer's credentials in ALIBABA_CLOUD_ACCESS_KEY_ID /
// ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN for STS credentials).

import { createTablestoreClient } from '../shared/cloud/tablestore';
import { ConfigurationError, loadConfig } from '../shared/config';
import {
  ensureSigningKey,
  ensureStoreSearchIndexes,
  ensureStoreTables,
  storeTables,
} from '../shared/store';

function credentialsFromEnvironment() {
  const accessKeyId = process.env.ALIBABA_CLOUD_ACCESS_KEY_ID?.trim();
  const accessKeySecret = process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET?.trim();
  if (!accessKeyId || !accessKeySecret) {
    throw new ConfigurationError([
      {
        variable: 'ALIBABA_CLOUD_ACCESS_KEY_ID',
        problem:
          'ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are required (an AccessKey allowed to create tables in the instance)',
      },
    ]);
  }
  const securityToken = process.env.ALIBABA_CLOUD_SECURITY_TOKEN?.trim();
  return { accessKeyId, accessKeySecret, ...(securityToken ? { securityToken } : {}) };
}

async function main(): Promise<void> {
  const { tablestore, sessions } = loadConfig(process.env, ['tablestore', 'sessions']);
  const options = { sessionRetentionDays: sessions.retentionDays };
  const credentials = credentialsFromEnvironment();
  const client = createTablestoreClient({
    endpoint: tablestore.endpoint,
    instanceName: tablestore.instance,
    credentials: () => credentials,
  });
  const report = await ensureStoreTables(client, options);
  const signingKey = await ensureSigningKey(client, storeTables());
  const parts = [
    `created ${report.created.length}${report.created.length ? ` (${report.created.join(', ')})` : ''}`,
    `verified ${report.verified.length}`,
    ...(report.indexesCreated.length
      ? [`indexes created: ${report.indexesCreated.join(', ')}`]
      : []),
    ...(report.optionsUpdated.length
      ? [`options updated: ${report.optionsUpdated.join(', ')}`]
      : []),
    `cursor signing key ${signingKey.created ? 'created' : 'kept'}`,
  ];
  process.stdout.write(`setup-tables: instance ${tablestore.instance}: ${parts.join('; ')}\n`);
  const search = await ensureStoreSearchIndexes(client, options);
  const searchParts = (
    [
      ['created', search.created],
      ['verified', search.verified],
      ['time to live updated', search.ttlUpdated],
      ['deleted (replaced by a synced version)', search.deleted],
      ['kept until their replacement has synced (run setup again later)', search.retiring],
      ['newer than declared, left alone', search.newer],
    ] as const
  )
    .filter(([, names]) => names.length > 0)
    .map(([what, names]) => `${what}: ${names.join(', ')}`);
  if (searchParts.length > 0) {
    process.stdout.write(`setup-tables: search indexes: ${searchParts.join('; ')}\n`);
  }
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`setup-tables failed: ${message}\n`);
  process.exit(1);
});

// Creates the central Log Service project and Logstore that log integration forwards to, in the
// functions' own account and region, idempotently (an existing project of this account and an
// existing Logstore are kept as they are; a project name another account holds stops the setup,
// naming it). Run by s.yaml's post-deploy action on `s deploy` beside setup:tables, and by the
// local function host on `npm start`, with the deployer's credentials in
// ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN).
//
// LOG_CENTRAL_PROJECT, LOG_CENTRAL_LOGSTORE: the names (s.yaml passes its vars); LOG_CENTRAL_REGION
// (or FC_REGION): the functions' region; SLS_ENDPOINT: the region's public endpoint (the default);
// LOG_CENTRAL_TTL_DAYS (default 180) and LOG_CENTRAL_SHARDS (default 4) for a new Logstore. It also
// makes `<Logstore>-trigger-runs` (30 days, 1 shard), the run log of the session index's log trigger.

import { createLogService } from '../shared/cloud/sls/client';
import { slsEndpointFor } from '../shared/cloud/sls/endpoint';
import { ConfigurationError, loadConfig } from '../shared/config';
import { ensureCentralLogstore } from '../shared/logs/central';

function required(name: string, expected: string): string {
  const value = process.env[name]?.trim();
  if (!value)
    throw new ConfigurationError([
      { variable: name, problem: `${name} is required (${expected})` },
    ]);
  return value;
}

function integer(name: string, fallback: number, min: number, max: number): number {
  const text = process.env[name]?.trim();
  const value = text ? Number(text) : fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigurationError([
      { variable: name, problem: `${name} must be an integer from ${min} to ${max}; got ${text}` },
    ]);
  }
  return value;
}

async function main(): Promise<void> {
  const config = loadConfig(process.env, ['cloud', 'sls', 'logs']);
  const region =
    process.env.LOG_CENTRAL_REGION?.trim() ||
    required('FC_REGION', "the functions' region, or set LOG_CENTRAL_REGION");
  const accessKeyId = required(
    'ALIBABA_CLOUD_ACCESS_KEY_ID',
    'an AccessKey allowed to create Log Service projects and Logstores',
  );
  const accessKeySecret = required('ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'the AccessKey secret');
  const securityToken = process.env.ALIBABA_CLOUD_SECURITY_TOKEN?.trim();
  // From the deployer's machine: the region's public endpoint, even for the functions' region.
  const endpoint = slsEndpointFor(
    {
      endpoint: config.sls.endpoint,
      ownRegionEndpoint: config.sls.endpoint,
      functionsRegion: region,
    },
    region,
  );
  const service = createLogService({
    endpoint,
    protocol: config.cloud.protocol,
    region,
    credentials: { accessKeyId, accessKeySecret, ...(securityToken ? { securityToken } : {}) },
    accountId: 'the deployer',
  });
  const address = { project: config.logs.centralProject, logstore: config.logs.centralLogstore };
  const result = await ensureCentralLogstore(service, address, {
    ttlDays: integer('LOG_CENTRAL_TTL_DAYS', 180, 1, 3650),
    shardCount: integer('LOG_CENTRAL_SHARDS', 4, 1, 100),
  });
  // The session index's log trigger writes its run log here (s.yaml: logConfig of the trigger on
  // the central Logstore); FC needs it to exist when the trigger is created.
  const triggerRuns = await service.createLogstore(
    { project: address.project, logstore: `${address.logstore}-trigger-runs` },
    { ttlDays: 30, shardCount: 1 },
  );
  const said = (outcome: 'created' | 'exists') => (outcome === 'created' ? 'created' : 'kept');
  process.stdout.write(
    `setup-logs: ${region}: project ${address.project} ${said(result.project)}; Logstore ${address.logstore} ${said(result.logstore)}; trigger run log ${address.logstore}-trigger-runs ${said(triggerRuns)}\n`,
  );
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`setup-logs failed: ${message}\n`);
  process.exit(1);
});

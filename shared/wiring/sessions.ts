// The session-index function's wiring (SLS log trigger on the central Logstore): per invocation,
// a Log Service client of the functions' own account and region (the central Logstore is there)
// with the invocation's role credentials, and the session index over Tablestore.

import { createLogService } from '../cloud/sls/client';
import { slsEndpointFor } from '../cloud/sls/endpoint';
import type { Config } from '../config';
import type { FunctionDefinition } from '../runtime/function';
import { decodeLogTriggerEvent } from '../runtime/trigger-events';
import { indexSessionRange, type SessionIngestReport } from '../sessions/ingest';
import { storeRuntime } from './store';

export const SESSION_INDEX_CONFIG_SECTIONS = ['cloud', 'sls', 'tablestore', 'logging'] as const;
type SessionIndexSection = (typeof SESSION_INDEX_CONFIG_SECTIONS)[number];

function sessionIndexRuntime(config: Config<SessionIndexSection>) {
  return { ...storeRuntime(config), config };
}

/** Indexes the Bastionhost session records of one shard's cursor range of the central Logstore. */
export const sessionIndexFunction: FunctionDefinition<
  SessionIndexSection,
  ReturnType<typeof sessionIndexRuntime>,
  SessionIngestReport
> = {
  name: 'session-index',
  config: SESSION_INDEX_CONFIG_SECTIONS,
  start: (config) => sessionIndexRuntime(config),
  async invoke(event, invocation, runtime, logger) {
    const trigger = decodeLogTriggerEvent(event);
    const credentials = runtime.useCredentialsOf(invocation);
    const config = runtime.config;
    const source = createLogService({
      endpoint: slsEndpointFor(
        {
          endpoint: config.sls.endpoint,
          ownRegionEndpoint: config.sls.ownRegionEndpoint,
          functionsRegion: invocation.region,
        },
        invocation.region,
      ),
      protocol: config.cloud.protocol,
      region: invocation.region,
      credentials,
      accountId: invocation.accountId,
    });
    const { projectName, logstoreName, shardId, beginCursor, endCursor } = trigger.source;
    const report = await indexSessionRange(
      {
        address: { project: projectName, logstore: logstoreName },
        shardId,
        beginCursor,
        endCursor,
      },
      { source, store: runtime.sessions, logger },
    );
    logger.info('session index: range indexed', {
      project: projectName,
      logstore: logstoreName,
      shardId,
      ...report,
    });
    return report;
  },
};

// What the log-planner (timer) and log-worker (FC async invocation) functions do with their
// trigger.

import { decodeJsonEvent } from '../runtime/trigger-events';
import { type PlannerDeps, type PlanSummary, planLogPulls, workerChunkSchema } from './planner';
import { type ChunkOutcome, type PullerDeps, pullChunk } from './puller';

export function handlePlannerTimer(deps: PlannerDeps): Promise<PlanSummary> {
  return planLogPulls(deps);
}

export async function handleWorkerChunk(
  deps: PullerDeps,
  event: unknown,
  deadline: number,
): Promise<ChunkOutcome> {
  const chunk = decodeJsonEvent(event, workerChunkSchema, 'log worker chunk');
  const outcome = await pullChunk(deps, chunk, deadline);
  const byOutcome: Record<string, number> = {};
  for (const shard of outcome.shards)
    byOutcome[shard.outcome] = (byOutcome[shard.outcome] ?? 0) + 1;
  deps.logger.info('log worker chunk finished', {
    runId: outcome.runId,
    chunk: outcome.chunk,
    shards: outcome.shards.length,
    logs: outcome.logs,
    bytes: outcome.bytes,
    ...byOutcome,
  });
  return outcome;
}

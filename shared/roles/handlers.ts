// What the role-sweep (timer) and role-check-worker (FC async invocation) functions do with
// their trigger.

import type { Logger } from '../runtime/logger';
import { decodeJsonEvent } from '../runtime/trigger-events';
import type { MemberRoleReport, ServiceLinkedRoles } from './service-linked-roles';
import { type SweepChunk, type SweepStarted, sweepChunkSchema } from './sweep';

export function decodeSweepChunk(event: unknown): SweepChunk {
  return decodeJsonEvent(event, sweepChunkSchema, 'role check chunk');
}

export interface ChunkOutcome {
  sweepId: string;
  chunk: number;
  checked: number;
  unreachable: string[];
  missing: Array<{ accountId: string; roles: string[] }>;
  repaired: Array<{ accountId: string; roles: string[] }>;
  skipped: Array<{ accountId: string; reason: string }>;
}

export async function handleRoleCheckChunk(
  deps: { roles: ServiceLinkedRoles; logger: Logger },
  event: unknown,
): Promise<ChunkOutcome> {
  const chunk = decodeSweepChunk(event);
  const results = await deps.roles.checkAccounts(
    chunk.accountIds,
    { cause: { kind: 'timer', trigger: `role-sweep/${chunk.sweepId}` } },
    chunk.repair === undefined ? {} : { repair: chunk.repair },
  );
  const outcome: ChunkOutcome = {
    sweepId: chunk.sweepId,
    chunk: chunk.chunk,
    checked: 0,
    unreachable: [],
    missing: [],
    repaired: [],
    skipped: [],
  };
  for (const result of results) {
    if ('skipped' in result) {
      outcome.skipped.push({ accountId: result.accountId, reason: result.skipped });
      continue;
    }
    outcome.checked++;
    const report: MemberRoleReport = result;
    if (!report.reachable) outcome.unreachable.push(report.accountId);
    const missing = report.roles.filter((r) => r.state === 'missing').map((r) => r.roleName);
    if (missing.length > 0) outcome.missing.push({ accountId: report.accountId, roles: missing });
    const repaired = report.roles.filter((r) => r.repaired).map((r) => r.roleName);
    if (repaired.length > 0)
      outcome.repaired.push({ accountId: report.accountId, roles: repaired });
  }
  deps.logger.info('role check chunk finished', {
    sweepId: outcome.sweepId,
    chunk: outcome.chunk,
    checked: outcome.checked,
    unreachable: outcome.unreachable.length,
    missing: outcome.missing.length,
    repaired: outcome.repaired.length,
    skipped: outcome.skipped.length,
  });
  return outcome;
}

export async function handleRoleSweepTimer(deps: {
  startSweep: () => Promise<SweepStarted>;
  logger: Logger;
}): Promise<SweepStarted> {
  const started = await deps.startSweep();
  deps.logger.info('role sweep fanned out', { ...started, failed: started.failed.length });
  for (const failure of started.failed) {
    deps.logger.warn('role sweep chunk not invoked', failure);
  }
  return started;
}

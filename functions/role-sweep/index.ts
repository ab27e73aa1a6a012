// FC handler of the role-sweep function (timer trigger): fans every managed member out, in
// chunks, to role-check-worker with FC async invocation.
import { readConfig } from '../../shared/config';
import { handleRoleSweepTimer } from '../../shared/roles/handlers';
import { decodeContext } from '../../shared/runtime/context';
import { createLogger } from '../../shared/runtime/logger';
import { decodeTimerEvent } from '../../shared/runtime/trigger-events';
import { SWEEP_CONFIG_SECTIONS, sweepRuntime } from '../../shared/wiring/sweep';

// Cold start: configuration parsed once; a missing or invalid variable stops the start.
const config = readConfig(SWEEP_CONFIG_SECTIONS);
const runtime = sweepRuntime(config);
const logger = createLogger({ level: config.logging.level, fields: { function: 'role-sweep' } });

export async function handler(event: Buffer, context: unknown) {
  decodeTimerEvent(event);
  const invocation = decodeContext(context);
  const log = logger.child({ requestId: invocation.requestId });
  const { startSweep } = runtime.forInvocation(invocation);
  return handleRoleSweepTimer({ startSweep, logger: log });
}

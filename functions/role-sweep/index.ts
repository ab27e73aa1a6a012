// FC handler of the role-sweep function (timer trigger): fans every managed member out, in
// chunks, to role-check-worker with FC async invocation.
import { readConfig } from '../../shared/config';
import { handleRoleSweepTimer } from '../../shared/roles/handlers';
import { decodeContext } from '../../shared/runtime/context';
import { createLogger } from '../../shared/runtime/logger';
import { decodeTimerEvent } from '../../shared/runtime/trigger-events';
import { MEMBERSHIP_CONFIG_SECTIONS, membershipRuntime } from '../../shared/wiring/membership';

// Cold start: configuration parsed once; a missing or invalid variable stops the start.
const config = readConfig(MEMBERSHIP_CONFIG_SECTIONS);
const runtime = membershipRuntime(config);
const logger = createLogger({ level: config.logging.level, fields: { function: 'role-sweep' } });

export async function handler(event: Buffer, context: unknown) {
  decodeTimerEvent(event);
  const invocation = decodeContext(context);
  const log = logger.child({ requestId: invocation.requestId });
  const { startSweep } = runtime.forInvocation(invocation, log);
  return handleRoleSweepTimer({ startSweep: () => startSweep({}), logger: log });
}

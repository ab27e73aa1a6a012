// FC handler of the reconcile function (timer trigger): every scope against the directory.
import { readConfig } from '../../shared/config';
import { handleReconcileTimer } from '../../shared/onboarding/handlers';
import { decodeContext } from '../../shared/runtime/context';
import { createLogger } from '../../shared/runtime/logger';
import { decodeTimerEvent } from '../../shared/runtime/trigger-events';
import { MEMBERSHIP_CONFIG_SECTIONS, membershipRuntime } from '../../shared/wiring/membership';

// Cold start: configuration parsed once; a missing or invalid variable stops the start.
const config = readConfig(MEMBERSHIP_CONFIG_SECTIONS);
const runtime = membershipRuntime(config);
const logger = createLogger({ level: config.logging.level, fields: { function: 'reconcile' } });

export async function handler(event: Buffer, context: unknown) {
  const timer = decodeTimerEvent(event);
  const invocation = decodeContext(context);
  const log = logger.child({ requestId: invocation.requestId });
  const { membership } = runtime.forInvocation(invocation, log);
  return handleReconcileTimer({ membership, logger: log }, timer.triggerName);
}

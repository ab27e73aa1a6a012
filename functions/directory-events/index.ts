// FC handler of the directory-events function (EventBridge trigger): Resource Directory
// changes recorded by ActionTrail reconcile the accounts they concern.
import { readConfig } from '../../shared/config';
import { handleDirectoryEvents } from '../../shared/onboarding/handlers';
import { decodeContext } from '../../shared/runtime/context';
import { createLogger } from '../../shared/runtime/logger';
import { MEMBERSHIP_CONFIG_SECTIONS, membershipRuntime } from '../../shared/wiring/membership';

// Cold start: configuration parsed once; a missing or invalid variable stops the start.
const config = readConfig(MEMBERSHIP_CONFIG_SECTIONS);
const runtime = membershipRuntime(config);
const logger = createLogger({
  level: config.logging.level,
  fields: { function: 'directory-events' },
});

export async function handler(event: Buffer, context: unknown) {
  const invocation = decodeContext(context);
  const log = logger.child({ requestId: invocation.requestId });
  const { membership, store } = runtime.forInvocation(invocation, log);
  return handleDirectoryEvents({ membership, idempotency: store.idempotency, logger: log }, event);
}

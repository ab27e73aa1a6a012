// FC handler of the role-check-worker function (invoked asynchronously by role-sweep): checks
// the service-linked roles of one chunk of members.
import { readConfig } from '../../shared/config';
import { handleRoleCheckChunk } from '../../shared/roles/handlers';
import { decodeContext } from '../../shared/runtime/context';
import { createLogger } from '../../shared/runtime/logger';
import { MEMBERSHIP_CONFIG_SECTIONS, membershipRuntime } from '../../shared/wiring/membership';

// Cold start: configuration parsed once; a missing or invalid variable stops the start.
const config = readConfig(MEMBERSHIP_CONFIG_SECTIONS);
const runtime = membershipRuntime(config);
const logger = createLogger({
  level: config.logging.level,
  fields: { function: 'role-check-worker' },
});

export async function handler(event: Buffer, context: unknown) {
  const invocation = decodeContext(context);
  const log = logger.child({ requestId: invocation.requestId });
  const { roles } = runtime.forInvocation(invocation, log);
  return handleRoleCheckChunk({ roles, logger: log }, event);
}

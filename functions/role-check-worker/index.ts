// FC handler of the role-check-worker function (invoked asynchronously by role-sweep): checks
// the service-linked roles of one chunk of members.
import { defineFunction } from '../../shared/runtime/function';
import { roleCheckWorkerFunction } from '../../shared/wiring/membership';

export const handler = defineFunction(roleCheckWorkerFunction);

// FC handler of the log-planner function (timer trigger): plans the shards of every enabled log
// integration and fans them out to log-worker with FC async invocation.
import { defineFunction } from '../../shared/runtime/function';
import { logPlannerFunction } from '../../shared/wiring/logs';

export const handler = defineFunction(logPlannerFunction);

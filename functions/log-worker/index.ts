// FC handler of the log-worker function (invoked asynchronously by log-planner): reads one chunk
// of members' shards from their checkpoints and forwards them to the central Logstore.
import { defineFunction } from '../../shared/runtime/function';
import { logWorkerFunction } from '../../shared/wiring/logs';

export const handler = defineFunction(logWorkerFunction);

// localcloud's Tablestore: wire-compatible with the `tablestore` SDK (only the endpoint differs).
export { ERROR_STATUS, OtsError } from './errors';
export { LIMITS } from './schema';
export {
  createTablestoreService,
  type InstanceSummary,
  type TablestoreService,
  type TablestoreServiceOptions,
} from './service';

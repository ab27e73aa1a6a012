// localcloud's Tablestore: wire-compatible with the `tablestore` SDK (only the endpoint differs).
// model/ holds the tables, rows and their rules (no wire types); wire/ decodes requests and
// encodes responses (protobuf, PlainBuffer, signatures); persistence/ keeps the model in a
// write-ahead log; service.ts authenticates and dispatches.
export { ERROR_STATUS, OtsError } from './model/errors';
export { LIMITS } from './model/schema';
export {
  createTablestoreService,
  type InstanceSummary,
  type TablestoreService,
  type TablestoreServiceOptions,
} from './service';

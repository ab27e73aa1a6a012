// Tablestore adapter: the only code that touches the `tablestore` SDK (through sdk.ts).
// Repositories (shared/store) use these exports; capability folders use the repositories.

export {
  BATCH_GET_MAX_ROWS,
  BATCH_WRITE_LIMITS,
  estimateWriteBytes,
  splitIntoBatches,
} from './batch';
export {
  assertBatchSucceeded,
  BatchWriteError,
  createTablestoreClient,
  type RangeOptions,
  type RetryEvent,
  type RowWriteResult,
  type TablestoreClient,
  type TablestoreClientOptions,
  type TablestoreCredentials,
} from './client';
export {
  type Column,
  type ColumnsOf,
  type ColumnsSpec,
  type ColumnsSpecOf,
  column,
  defineTable,
  type KeyOf,
  type PrimaryKeySpec,
  type PrimaryKeySpecOf,
  RowDecodeError,
  type RowOf,
  TypedTable,
} from './codec';
export {
  type EnsureSearchIndexesReport,
  ensureSearchIndexes,
  SearchIndexSchemaMismatch,
  type SearchIndexSelector,
  searchSchemaProblems,
  selectSearchIndex,
} from './ensure-search-indexes';
export { type EnsureTablesReport, ensureTables, TableSchemaMismatch } from './ensure-tables';
export {
  type FailureClass,
  isTablestoreError,
  SearchTokenRejected,
  storeFailureForApi,
  TablestoreError,
  type TablestoreErrorCode,
} from './errors';
export { compareKeys, isEmptyRange, isInRange } from './key-order';
export {
  declareSearchIndex,
  type SearchFieldSpec,
  type SearchIndexDeclaration,
  type SearchIndexSpec,
  versionedIndexName,
} from './search-declaration';
export { type BoolClauses, SEARCH_QUERY_LIMITS, searchQuery } from './search-query';
export * from './search-types';
export * from './types';

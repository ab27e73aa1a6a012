// SLS errors: the HTTP status and errorCode the service documents, with a message in its wording.
// The body on the wire is `{errorCode, errorMessage}` with `x-log-requestid` (see service.ts).

export class SlsError extends Error {
  override name = 'SlsError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const projectNotExist = (project: string): SlsError =>
  new SlsError(404, 'ProjectNotExist', `The Project does not exist : ${project}`);

export const logstoreNotExist = (logstore: string): SlsError =>
  new SlsError(404, 'LogStoreNotExist', `logstore ${logstore} does not exist`);

export const shardNotExist = (shardId: number | string): SlsError =>
  new SlsError(404, 'ShardNotExist', `shard ${shardId} does not exist`);

export const parameterInvalid = (message: string): SlsError =>
  new SlsError(400, 'ParameterInvalid', message);

export const invalidCursor = (message = 'this cursor is invalid'): SlsError =>
  new SlsError(400, 'InvalidCursor', message);

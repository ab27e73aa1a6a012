// Tablestore errors: the code, the HTTP status the service documents for it, and a message in the
// service's own wording (extended where that helps, e.g. with the limit that was exceeded).

export const ERROR_STATUS: Record<string, number> = {
  OTSAuthFailed: 403,
  OTSConditionCheckFail: 403,
  OTSQuotaExhausted: 403,
  OTSNoPermissionAccess: 403,
  OTSObjectNotExist: 404,
  OTSTableNotReady: 404,
  OTSObjectAlreadyExist: 409,
  OTSRowOperationConflict: 409,
  OTSParameterInvalid: 400,
  OTSMetaNotMatch: 400,
  OTSSessionNotExist: 400,
  OTSInvalidPK: 400,
  OTSOutOfColumnCountLimit: 400,
  OTSOutOfRowSizeLimit: 400,
  OTSMethodNotAllowed: 405,
  OTSRequestTimeout: 408,
  OTSRequestBodyTooLarge: 413,
  OTSInternalServerError: 500,
  OTSServerBusy: 503,
  OTSPartitionUnavailable: 503,
  OTSTimeout: 503,
  OTSServerUnavailable: 503,
};

export class OtsError extends Error {
  readonly status: number;
  constructor(
    readonly code: string,
    message: string,
    status?: number,
  ) {
    super(message);
    this.status = status ?? ERROR_STATUS[code] ?? 400;
  }
}

export const invalid = (message: string): OtsError => new OtsError('OTSParameterInvalid', message);

export const tableNotExist = (): OtsError =>
  new OtsError('OTSObjectNotExist', 'Requested table does not exist.');

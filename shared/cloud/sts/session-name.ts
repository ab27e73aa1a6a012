// RoleSessionName for AssumeRole: identifies the function and the request in the member's
// ActionTrail. STS accepts 2-64 characters of letters, digits and . @ - _ ([\w.@-]).

export const SESSION_NAME_PATTERN = /^[\w.@-]{2,64}$/;
const MAX_LENGTH = 64;
const MAX_REQUEST_PART = 48;

function sanitize(text: string): string {
  return text.replace(/[^\w.@-]/g, '-');
}

/** `<function>.<requestId>`, with the function name shortened first when it does not fit. */
export function roleSessionName(functionName: string, requestId: string): string {
  const request = sanitize(requestId).slice(-MAX_REQUEST_PART) || 'unknown';
  const room = MAX_LENGTH - 1 - request.length;
  const fn = sanitize(functionName).slice(0, room) || 'fn';
  return `${fn}.${request}`;
}

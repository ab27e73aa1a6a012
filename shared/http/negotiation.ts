// Content negotiation for the routes that can answer in a second format besides JSON (the role
// report as CSV, the directory as a text table): the second format only when the client's Accept
// names it before JSON, so a client that sends no Accept, or `*/*`, gets JSON.

/** Whether `accept` asks for `type` (e.g. text/csv) ahead of application/json. */
export function prefersOverJson(accept: string | undefined, type: string): boolean {
  if (!accept) return false;
  const types = accept.split(',').map((part) => part.split(';')[0]?.trim().toLowerCase());
  const wanted = types.indexOf(type);
  const json = types.indexOf('application/json');
  return wanted >= 0 && (json < 0 || wanted < json);
}

// Vitest setup (every test file): every answer that reaches a test through the global fetch from
// the API on this machine (a path under /v1/ on 127.0.0.1 or localhost) is checked against the
// OpenAPI document (api-contract.ts) before the test sees it; an answer that does not conform
// fails the request with the problems listed, so the document cannot drift from what the API does.

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Whether a URL is the API's (and not localcloud's or a test app's). */
function isApiRequest(url: URL): boolean {
  return LOCAL_HOSTS.has(url.hostname) && url.pathname.startsWith('/v1/');
}

export class ContractViolation extends Error {
  override readonly name = 'ContractViolation';
}

const originalFetch = globalThis.fetch;

globalThis.fetch = async (input, init) => {
  const response = await originalFetch(input, init);
  const url = new URL(input instanceof Request ? input.url : String(input));
  const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  if (!isApiRequest(url) || method === 'HEAD') return response;
  const body = await response.clone().text();
  // Loaded on the first answer of the API: test files that never call it pay nothing.
  const { apiContract } = await import('./api-contract');
  const problems = apiContract().check({
    method: method,
    url: `${url.pathname}${url.search}`,
    status: response.status,
    headers: response.headers,
    body,
  });
  if (problems.length > 0) {
    throw new ContractViolation(
      `${method} ${url.pathname}${url.search} answered ${response.status}, which the OpenAPI document does not allow:\n- ${problems.join('\n- ')}`,
    );
  }
  return response;
};

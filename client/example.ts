// A portal reading managed members and searching sessions with the typed client (README, "The typed client"); the
// tests run it against the stack `npm start` serves. Run: npx tsx client/example.ts
import { readFileSync } from 'node:fs';
import { createRdGovernanceClient } from './index';

// npm start writes the API's URL and tokens here; a portal takes them from its own settings.
const env: { api: { url: string; viewerToken: string } } = JSON.parse(
  readFileSync(process.env.RDGOV_ENV_FILE ?? '.localcloud/env.json', 'utf8'),
);
const api = createRdGovernanceClient({ baseUrl: env.api.url, token: env.api.viewerToken });

// Every managed member, a page at a time.
const accountIds: string[] = [];
let cursor: string | undefined;
do {
  const { data, error } = await api.GET('/v1/members', {
    params: { query: { limit: 10, ...(cursor ? { cursor } : {}) } },
  });
  if (error) throw new Error(`${error.code}: ${error.message} (request ${error.requestId})`);
  for (const member of data.members) {
    accountIds.push(member.accountId);
    console.log(member.accountId, member.status, member.folderPath ?? '-', member.displayName);
  }
  cursor = data.nextCursor;
} while (cursor);

// One member with the scopes that cover it; an error is typed too ({code, message, details}).
const first = accountIds[0] ?? '0000000000000000';
const { data, error } = await api.GET('/v1/members/{accountId}', {
  params: { path: { accountId: first } },
});
console.log(
  error ? `${first}: ${error.code}` : `${first} covered by ${data.scopes.map((s) => s.id)}`,
);

// Session audit: that member's SSH sessions of the last day, newest first, and how many there are.
const since = new Date(Date.now() - 86_400_000).toISOString();
const sessions = await api.GET('/v1/sessions', {
  params: { query: { ownerAccountId: first, protocol: 'ssh', from: since, limit: 5 } },
});
if (sessions.error) throw new Error(`${sessions.error.code}: ${sessions.error.message}`);
// The route also answers text/csv (Accept: text/csv); JSON is what this call asked for.
const page = sessions.data;
if (typeof page === 'string') throw new Error('expected JSON');
for (const s of page.sessions) console.log(s.sessionId, s.userName ?? '-', s.startTime);
console.log(`${first}: ${page.totalCount} SSH sessions since ${since}`);

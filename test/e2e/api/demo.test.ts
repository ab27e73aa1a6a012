// What `npm start` serves: the demo organization through the api function.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSystem } from '../../../localcloud/system';
import { directoryResponseSchema } from '../../../shared/http/directory-routes';

let system: Awaited<ReturnType<typeof startLocalSystem>>;

beforeAll(async () => {
  system = await startLocalSystem({ port: 0, envFile: false });
}, 60_000);
afterAll(async () => {
  await system?.stop();
});

describe('the demo organization', () => {
  it('GET /v1/directory answers with 24+ members in a folder tree at least 3 deep', async () => {
    const response = await fetch(new URL('/v1/directory', system.host.apiUrl), {
      headers: { authorization: `Bearer ${system.host.tokens.operator}` },
    });
    expect(response.status).toBe(200);
    const directory = directoryResponseSchema.parse(await response.json());
    expect(directory.members.length).toBeGreaterThanOrEqual(24);
    const depth = (node: { children: Array<{ children: unknown[] }> }): number =>
      1 +
      Math.max(
        0,
        ...node.children.map((c) => depth(c as { children: Array<{ children: unknown[] }> })),
      );
    expect(depth(directory.root)).toBeGreaterThanOrEqual(4); // Root + 3 levels
    expect(new Set(directory.members.map((m) => m.joinMethod))).toEqual(
      new Set(['created', 'invited']),
    );
    expect(directory.delegatedAdministrators.length).toBeGreaterThanOrEqual(1);
  });
});

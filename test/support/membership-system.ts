// A local system for management-scope flows: localcloud with a test organization, the function
// host running every function of s.yaml, and the store's tables created as `s deploy`'s
// post-deploy action would (directly, without spawning npm). Timers are not scheduled; tests
// fire them. Directory events are delivered by the tests unless `forwardEvents` is set.

import type { OrganizationFixture } from '../../localcloud/index';
import { type LocalSystem, startLocalSystem } from '../../localcloud/system';
import type { Store } from '../../shared/store';
import { managementStore } from './local-store';

export interface MembershipSystem {
  system: LocalSystem;
  /** The store as the functions see it (management account's instance). */
  store: Store;
  managementAccountId: string;
  call(
    method: string,
    path: string,
    options?: { body?: unknown; token?: string | null; rawBody?: string; contentType?: string },
  ): Promise<{ status: number; json: Record<string, unknown> }>;
  control(method: string, path: string, body?: unknown): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export async function startMembershipSystem(
  organization: OrganizationFixture,
  options: { forwardEvents?: boolean } = {},
): Promise<MembershipSystem> {
  const system = await startLocalSystem({
    organization,
    port: 0,
    envFile: false,
    forwardDirectoryEvents: options.forwardEvents ?? false,
    host: {
      schedule: false,
      // RDG_E2E_LOG=1 shows the functions' output when a test needs explaining.
      log: process.env.RDG_E2E_LOG ? (line) => process.stdout.write(`${line}\n`) : () => {},
    },
  });
  const management = system.env.accounts.find((a) => a.kind === 'management');
  if (!management) throw new Error('no management account');
  const { store } = await managementStore(system.env);
  const operator = system.host.tokens.operator;
  return {
    system,
    store,
    managementAccountId: management.id,
    async call(method, path, opts = {}) {
      const headers: Record<string, string> = {};
      const token = opts.token === undefined ? operator : opts.token;
      if (token) headers.authorization = `Bearer ${token}`;
      let body: string | undefined;
      if (opts.rawBody !== undefined) body = opts.rawBody;
      else if (opts.body !== undefined) body = JSON.stringify(opts.body);
      if (body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
      const response = await fetch(new URL(path, system.host.apiUrl), {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
      });
      const text = await response.text();
      return {
        status: response.status,
        json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      };
    },
    async control(method, path, body) {
      const response = await fetch(new URL(`/__localcloud${path}`, system.cloud.url), {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const json = (await response.json()) as Record<string, unknown>;
      if (!response.ok) throw new Error(`control ${method} ${path}: ${JSON.stringify(json)}`);
      return json;
    },
    stop: () => system.stop(),
  };
}

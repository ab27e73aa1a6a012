// The store as a function process keeps it: one Tablestore client for the process, signing
// with the credentials of the latest invocation (FC rotates the role's credentials).

import { createTablestoreClient } from '../cloud/tablestore';
import type { Config } from '../config';
import { FunctionMisconfigured } from '../errors';
import type { CloudCredentials, Invocation } from '../runtime/context';
import { createSessionIndex, createStore, type Store, type TablestoreSessionIndex } from '../store';

export function requireCredentials(invocation: Invocation): CloudCredentials {
  if (!invocation.credentials) {
    throw new FunctionMisconfigured(
      `Function ${invocation.functionName} has no role credentials; set "role" in s.yaml to the role deploy/function-role-policy.json describes`,
    );
  }
  return invocation.credentials;
}

export function storeRuntime(config: Config<'tablestore'>): {
  store: Store;
  /** The session index (events, sessions and their search index), on the same client. */
  sessions: TablestoreSessionIndex;
  /** Takes the invocation's credentials for every later store call; returns them. */
  useCredentialsOf(invocation: Invocation): CloudCredentials;
} {
  let credentials: CloudCredentials | undefined;
  const client = createTablestoreClient({
    endpoint: config.tablestore.endpoint,
    instanceName: config.tablestore.instance,
    credentials: () => {
      if (!credentials)
        throw new FunctionMisconfigured('No function role credentials for Tablestore');
      return credentials;
    },
  });
  return {
    store: createStore({ client }),
    sessions: createSessionIndex({ client }),
    useCredentialsOf(invocation) {
      credentials = requireCredentials(invocation);
      return credentials;
    },
  };
}

// Messages between the host and a function instance (a child process running bootstrap.ts),
// over node's IPC channel with `advanced` serialization so event bytes travel as bytes.

export interface InvocationContextData {
  requestId: string;
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken: string };
  function: { name: string; handler: string; memory: number; timeout: number };
  region: string;
  accountId: string;
}

/** FC's error payload for a failed invocation. */
export interface SerializedError {
  errorMessage: string;
  errorType: string;
  stackTrace: string[];
}

export type HostMessage =
  | { type: 'init'; modulePath: string; exportName: string }
  | { type: 'invoke'; id: number; event: Uint8Array; context: InvocationContextData };

export type InstanceMessage =
  | { type: 'ready'; initMs: number }
  | { type: 'init-error'; error: SerializedError }
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: SerializedError };

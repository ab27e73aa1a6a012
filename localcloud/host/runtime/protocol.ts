// Messages between the host and a function instance (a child process running bootstrap.ts),
// over node's IPC channel with `advanced` serialization so event bytes travel as bytes.
//
// The instance's stdout and stderr are pipes, read apart from the IPC channel, so a result can
// reach the host before the lines the handler printed while producing it. Before each message
// that ends a step (ready, init-error, result) the instance writes a fence line
// `OUTPUT_FENCE + <key>` to stdout and to stderr; the host passes the message on only once it has
// read both fences, so everything printed before it is in the host's log first.

/** Starts a fence line; never shown as output. NUL does not occur in console text. */
export const OUTPUT_FENCE = '\u0000rdgov-host-fence:';
/** The fence key of a cold start (ready or init-error); an invocation's is its id. */
export const INIT_FENCE_KEY = 'init';

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

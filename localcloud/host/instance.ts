// Function instances, as FC runs them: each is a separate node process (bootstrap.ts) that loads
// the handler module once and then serves invocations while it stays warm. An instance takes up
// to `instanceConcurrency` invocations at a time; more concurrent invocations start more
// instances (up to a local cap). A timed-out invocation takes its instance down, as in FC, and
// the next invocation cold-starts a new one. A new build retires the running instances.

import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import type {
  HostMessage,
  InstanceMessage,
  InvocationContextData,
  SerializedError,
} from './runtime/protocol';

export type InvocationFailureKind =
  | 'unhandled' // the handler threw or rejected
  | 'timeout' // the function ran past its timeout
  | 'init' // the module failed to load (cold start)
  | 'crash' // the instance process died
  | 'setup'; // the host could not start it (build failed, role not assumable)

/** A failed invocation, carrying FC's error payload. */
export class FunctionInvocationError extends Error {
  constructor(
    readonly functionName: string,
    readonly kind: InvocationFailureKind,
    readonly payload: SerializedError,
  ) {
    super(`${functionName}: ${payload.errorType}: ${payload.errorMessage}`);
    this.name = 'FunctionInvocationError';
  }
}

export interface InstanceOptions {
  functionName: string;
  bootstrapPath: string;
  modulePath: string;
  exportName: string;
  env: Record<string, string>;
  cwd: string;
  memorySize: number;
  /** Receives each line the instance writes to stdout or stderr. */
  onOutput: (line: string, stream: 'stdout' | 'stderr') => void;
  onExit: (instance: FunctionInstance) => void;
}

interface PendingInvocation {
  resolve: (value: unknown) => void;
  reject: (error: FunctionInvocationError) => void;
}

export class FunctionInstance {
  readonly id = randomUUID();
  readonly ready: Promise<void>;
  /** Invocations assigned to this instance and not finished (the runtime keeps count). */
  inFlight = 0;
  /** Set when a newer build or credentials replace this instance: it takes no new work. */
  retired = false;
  exited = false;
  /** When the role credentials in this instance's environment expire (epoch ms). */
  credentialsExpireAt: number | undefined;
  initMs: number | undefined;
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, PendingInvocation>();
  private nextId = 0;
  private exitReason: SerializedError | undefined;

  constructor(private readonly options: InstanceOptions) {
    this.child = fork(options.bootstrapPath, [], {
      cwd: options.cwd,
      env: options.env,
      execArgv: ['--enable-source-maps', `--max-old-space-size=${options.memorySize}`],
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = this.child[stream];
      if (source) {
        createInterface({ input: source }).on('line', (line) => options.onOutput(line, stream));
      }
    }
    this.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (message: InstanceMessage) => {
        if (message.type === 'ready') {
          this.initMs = message.initMs;
          resolve();
        } else if (message.type === 'init-error') {
          reject(new FunctionInvocationError(options.functionName, 'init', message.error));
          this.kill();
        } else if (message.type === 'result') {
          const waiting = this.pending.get(message.id);
          if (!waiting) return;
          this.pending.delete(message.id);
          if (message.ok) waiting.resolve(message.value);
          else {
            waiting.reject(
              new FunctionInvocationError(options.functionName, 'unhandled', message.error),
            );
          }
        }
      };
      this.child.on('message', onMessage);
      this.child.on('exit', (code, signal) => {
        this.exited = true;
        const reason = this.exitReason ?? {
          errorMessage: `Process exited unexpectedly before completing request (code ${code ?? 'none'}, signal ${signal ?? 'none'})`,
          errorType: 'ProcessExited',
          stackTrace: [],
        };
        reject(new FunctionInvocationError(options.functionName, 'crash', reason));
        for (const waiting of this.pending.values()) {
          waiting.reject(
            new FunctionInvocationError(
              options.functionName,
              reason.errorType === 'FunctionTimeout' ? 'timeout' : 'crash',
              reason,
            ),
          );
        }
        this.pending.clear();
        options.onExit(this);
      });
      this.child.on('error', (error) => {
        this.exitReason = {
          errorMessage: `the instance process failed: ${error.message}`,
          errorType: 'ProcessError',
          stackTrace: [],
        };
      });
    });
    // A failed cold start is reported through invoke(); keep it from being an unhandled rejection.
    this.ready.catch(() => undefined);
    this.send({ type: 'init', modulePath: options.modulePath, exportName: options.exportName });
  }

  private send(message: HostMessage): void {
    if (this.exited || !this.child.connected) return;
    this.child.send(message);
  }

  /**
   * Runs one invocation. `deadline` (epoch ms) bounds cold start plus execution; past it the
   * instance is killed and the invocation fails as FC reports a timeout.
   */
  async invoke(
    event: Buffer,
    context: InvocationContextData,
    deadline: number,
    timeoutSeconds: number,
  ): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => {
          const payload: SerializedError = {
            errorMessage: `Function timed out after ${timeoutSeconds} seconds`,
            errorType: 'FunctionTimeout',
            stackTrace: [],
          };
          this.exitReason = payload;
          reject(new FunctionInvocationError(this.options.functionName, 'timeout', payload));
          this.kill();
        },
        Math.max(0, deadline - Date.now()),
      );
    });
    try {
      const run = (async () => {
        await this.ready;
        const id = ++this.nextId;
        const result = new Promise<unknown>((resolve, reject) => {
          this.pending.set(id, { resolve, reject });
        });
        this.send({ type: 'invoke', id, event, context });
        return result;
      })();
      return await Promise.race([run, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    this.retired = true;
    if (!this.exited) this.child.kill('SIGKILL');
  }

  /** Resolves once the process has exited. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.kill();
    await exited;
  }
}

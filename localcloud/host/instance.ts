// Function instances, as FC runs them: each is a separate node process (bootstrap.ts) that loads
// the handler module once and then serves invocations while it stays warm. An instance takes up
// to `instanceConcurrency` invocations at a time; more concurrent invocations start more
// instances (up to a local cap). A timed-out invocation takes its instance down, as in FC, and
// the next invocation cold-starts a new one. A new build retires the running instances.
// An invocation settles only once what the handler printed before returning is in the host's
// log: stdout and stderr are read apart from the IPC channel, so the instance fences each step's
// output (runtime/protocol.ts) and the host waits for both fences before passing the result on.

import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import {
  type HostMessage,
  INIT_FENCE_KEY,
  type InstanceMessage,
  type InvocationContextData,
  OUTPUT_FENCE,
  type SerializedError,
} from './runtime/protocol';

type OutputStream = 'stdout' | 'stderr';
const OUTPUT_STREAMS: readonly OutputStream[] = ['stdout', 'stderr'];

/** A step's message waiting for the output printed before it (see OUTPUT_FENCE). */
interface Fence {
  /** Streams read up to the step's fence line. */
  reached: Set<OutputStream>;
  /** Passes the step's message on; set when the message arrives (it may follow the fences). */
  deliver?: () => void;
}

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
  private readonly fences = new Map<string, Fence>();
  /** Streams that have ended: nothing more will be read from them, so no fence is awaited. */
  private readonly endedStreams = new Set<OutputStream>();
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
    for (const stream of OUTPUT_STREAMS) {
      const source = this.child[stream];
      if (!source) {
        this.endedStreams.add(stream);
        continue;
      }
      const lines = createInterface({ input: source });
      lines.on('line', (line) => this.readLine(line, stream));
      lines.on('close', () => {
        this.endedStreams.add(stream);
        for (const key of [...this.fences.keys()]) this.settleFence(key);
      });
    }
    this.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (message: InstanceMessage) => {
        if (message.type === 'ready') {
          this.afterOutput(INIT_FENCE_KEY, () => {
            this.initMs = message.initMs;
            resolve();
          });
        } else if (message.type === 'init-error') {
          this.afterOutput(INIT_FENCE_KEY, () => {
            reject(new FunctionInvocationError(options.functionName, 'init', message.error));
            this.kill();
          });
        } else if (message.type === 'result') {
          this.afterOutput(String(message.id), () => {
            const waiting = this.pending.get(message.id);
            if (!waiting) return;
            this.pending.delete(message.id);
            if (message.ok) waiting.resolve(message.value);
            else {
              waiting.reject(
                new FunctionInvocationError(options.functionName, 'unhandled', message.error),
              );
            }
          });
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

  /** One line of the instance's output: a fence moves its step on, anything else is output. */
  private readLine(line: string, stream: OutputStream): void {
    const at = line.indexOf(OUTPUT_FENCE);
    if (at < 0) {
      this.options.onOutput(line, stream);
      return;
    }
    // Output printed without a final newline shares the fence's line.
    if (at > 0) this.options.onOutput(line.slice(0, at), stream);
    const key = line.slice(at + OUTPUT_FENCE.length);
    const fence = this.fences.get(key) ?? { reached: new Set<OutputStream>() };
    fence.reached.add(stream);
    this.fences.set(key, fence);
    this.settleFence(key);
  }

  /** Runs `deliver` once both output streams have been read up to the fence of `key`. */
  private afterOutput(key: string, deliver: () => void): void {
    const fence = this.fences.get(key) ?? { reached: new Set<OutputStream>() };
    fence.deliver = deliver;
    this.fences.set(key, fence);
    this.settleFence(key);
  }

  private settleFence(key: string): void {
    const fence = this.fences.get(key);
    if (!fence?.deliver) return;
    for (const stream of OUTPUT_STREAMS) {
      if (!fence.reached.has(stream) && !this.endedStreams.has(stream)) return;
    }
    this.fences.delete(key);
    fence.deliver();
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

// FC's asynchronous invocation queue, locally: InvokeFunction with `x-fc-invocation-type: Async`
// answers 202 at once and the invocation waits here until it runs in the function host, first in
// first out per function, at most `concurrencyPerFunction` of one function at a time (the host's
// instance cap: more would only wait inside the host). Nothing is dropped on error: a failed
// invocation is reported as one log line. `drain()` lets a test wait until every queued
// invocation (and every one they queue in turn) has run and what it printed is in the host's log
// (the host settles an invocation only after its output: host/instance.ts); `close()` refuses new ones, cancels
// those still waiting and resolves once the running ones have settled.

export interface AsyncInvocation {
  requestId: string;
  functionName: string;
  payload: Buffer;
}

export type AsyncInvocationRunner = (invocation: AsyncInvocation) => Promise<unknown>;

export interface AsyncInvocationsOptions {
  run: AsyncInvocationRunner;
  /** Invocations of one function running at once (default 4). */
  concurrencyPerFunction?: number;
  /** One line per failed or cancelled invocation. */
  log: (line: string) => void;
}

/** What a test or the local system sees of the queue. */
export interface AsyncInvocations {
  /** Invocations accepted and not yet finished (waiting or running). */
  pending(): number;
  /** Resolves when no invocation is waiting or running, including any queued meanwhile; the
   *  output of each is in the host's log by then. */
  drain(): Promise<void>;
  /** Refuses new invocations, cancels the waiting ones (logged), and resolves once the running
   *  ones have settled. Idempotent. */
  close(): Promise<void>;
  readonly closed: boolean;
}

export class AsyncQueueClosedError extends Error {
  override name = 'AsyncQueueClosedError';
}

/** The first line of what an invocation failed with (FC's errorType: errorMessage when known). */
export function describeInvocationFailure(error: unknown): string {
  const payload = (error as { payload?: { errorType?: unknown; errorMessage?: unknown } } | null)
    ?.payload;
  const text =
    payload && typeof payload.errorMessage === 'string'
      ? `${typeof payload.errorType === 'string' ? payload.errorType : 'Error'}: ${payload.errorMessage}`
      : error instanceof Error
        ? error.message
        : String(error);
  return text.split('\n')[0] ?? '';
}

export class AsyncInvocationQueue implements AsyncInvocations {
  private readonly waiting = new Map<string, AsyncInvocation[]>();
  private readonly running = new Map<string, number>();
  private readonly inFlight = new Set<Promise<void>>();
  private idleWaiters: Array<() => void> = [];
  private count = 0;
  private isClosed = false;
  private readonly limit: number;

  constructor(private readonly options: AsyncInvocationsOptions) {
    this.limit = Math.max(1, options.concurrencyPerFunction ?? 4);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  pending(): number {
    return this.count;
  }

  /** Queues an invocation; throws AsyncQueueClosedError once closed. */
  enqueue(invocation: AsyncInvocation): void {
    if (this.isClosed) {
      throw new AsyncQueueClosedError('the local function host is stopping');
    }
    const queue = this.waiting.get(invocation.functionName) ?? [];
    queue.push(invocation);
    this.waiting.set(invocation.functionName, queue);
    this.count++;
    this.pump(invocation.functionName);
  }

  drain(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    if (!this.isClosed) {
      this.isClosed = true;
      for (const [functionName, queue] of this.waiting) {
        for (const invocation of queue.splice(0)) {
          this.options.log(
            `[fc] async invocation ${invocation.requestId} of ${functionName} cancelled: the local function host is stopping`,
          );
          this.finishOne();
        }
      }
      this.waiting.clear();
    }
    await Promise.all([...this.inFlight]);
  }

  private pump(functionName: string): void {
    const queue = this.waiting.get(functionName);
    while (queue && queue.length > 0 && (this.running.get(functionName) ?? 0) < this.limit) {
      const invocation = queue.shift() as AsyncInvocation;
      this.running.set(functionName, (this.running.get(functionName) ?? 0) + 1);
      const run = this.execute(invocation).finally(() => {
        this.inFlight.delete(run);
        this.running.set(functionName, (this.running.get(functionName) ?? 1) - 1);
        this.finishOne();
        this.pump(functionName);
      });
      this.inFlight.add(run);
    }
    if (queue && queue.length === 0) this.waiting.delete(functionName);
  }

  private async execute(invocation: AsyncInvocation): Promise<void> {
    try {
      // A runner that throws synchronously is reported like one that rejects.
      await Promise.resolve().then(() => this.options.run(invocation));
    } catch (error) {
      try {
        const outcome = this.isClosed ? 'stopped with the local function host' : 'failed';
        this.options.log(
          `[fc] async invocation ${invocation.requestId} of ${invocation.functionName} ${outcome}: ${describeInvocationFailure(error)}`,
        );
      } catch {
        // A failing log must not stop the queue.
      }
    }
  }

  private finishOne(): void {
    this.count--;
    if (this.count > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

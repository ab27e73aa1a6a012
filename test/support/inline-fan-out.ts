// FC async invocation, in the test's own process: invocations wait in a queue until the test runs
// them (all, or one at a time), so a test decides what happens between them, as the cloud's
// scheduling would. Payloads go through JSON, as FC delivers them.

import { randomUUID } from 'node:crypto';
import type { FanOut } from '../../shared/domain/fan-out';

export interface QueuedInvocation {
  functionName: string;
  payload: unknown;
  requestId: string;
}

export class InlineFanOut implements FanOut {
  readonly queue: QueuedInvocation[] = [];
  /** Every invocation ever queued, in order. */
  readonly invoked: QueuedInvocation[] = [];
  /** Set to make the next invocations fail, as FC refusing them would. */
  refuse: Error | undefined;

  async invokeAsync(functionName: string, payload: unknown): Promise<{ requestId: string }> {
    if (this.refuse) throw this.refuse;
    const invocation = {
      functionName,
      payload: JSON.parse(JSON.stringify(payload)) as unknown,
      requestId: randomUUID(),
    };
    this.queue.push(invocation);
    this.invoked.push(invocation);
    return { requestId: invocation.requestId };
  }

  /** Runs the oldest queued invocation; false when none was waiting. */
  async runNext(handler: (payload: unknown) => Promise<unknown>): Promise<boolean> {
    const next = this.queue.shift();
    if (!next) return false;
    await handler(next.payload);
    return true;
  }

  /** Runs queued invocations, and those they queue, until none is left. */
  async drain(handler: (payload: unknown) => Promise<unknown>): Promise<number> {
    let ran = 0;
    while (await this.runNext(handler)) ran++;
    return ran;
  }
}

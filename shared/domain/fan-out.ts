// Asynchronous fan-out: work handed to a worker function that Function Compute runs later (FC
// async invocation), so a request or a timer can start more work than fits in its own timeout.
// FC retries a failed asynchronous invocation, so a worker must tolerate running its payload
// twice.

/** FC async invocation of a worker function. */
export interface FanOut {
  invokeAsync(functionName: string, payload: unknown): Promise<{ requestId: string }>;
}

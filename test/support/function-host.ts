// Shared helpers for the function host's end-to-end tests.

import type { LocalCloudEnv } from '../../localcloud/core/contracts';

/** A LocalCloudEnv for host tests that need no cloud service (functions without a role). */
export function offlineCloudEnv(): LocalCloudEnv {
  const nowhere = '127.0.0.1:9';
  return {
    region: 'cn-hangzhou',
    url: `http://${nowhere}`,
    endpoints: {
      sts: nowhere,
      resourcemanager: nowhere,
      ram: nowhere,
      tablestore: nowhere,
      sls: nowhere,
      fc: nowhere,
    },
    control: `http://${nowhere}/__localcloud`,
    managementAccountId: '1000000000000001',
    accounts: [],
    servicePrincipals: {},
  };
}

/** Collects the host's output lines so tests can wait for one. */
export class LogCapture {
  readonly lines: string[] = [];
  readonly log = (line: string): void => {
    this.lines.push(line);
  };

  /** Resolves with the first line matching, polling for at most `timeoutMs`. */
  async waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find((line) => pattern.test(line));
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(
          `no output line matched ${pattern} within ${timeoutMs} ms:\n${this.lines.join('\n')}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** Polls `probe` until it returns true, for at most `timeoutMs`. */
export async function eventually(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// A function instance's invocation settles only after the output the handler printed before
// returning has been read: stdout and stderr are pipes read apart from the IPC channel the result
// travels on, so without the fences (runtime/protocol.ts) a result could overtake its own output
// and `system.asyncInvocations.drain()` resolve before the output reached the host's log.
//
// The instance here runs a stand-in bootstrap that forces the bad order: it sends the result
// first and prints the output (with the fences) only afterwards.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FunctionInstance } from '../../../../localcloud/host/instance';
import { INIT_FENCE_KEY, OUTPUT_FENCE } from '../../../../localcloud/host/runtime/protocol';

const LATE_OUTPUT_BOOTSTRAP = `
const FENCE = ${JSON.stringify(OUTPUT_FENCE)};
process.on('message', (message) => {
  if (message.type === 'init') {
    process.send({ type: 'ready', initMs: 0 }, () => {
      setTimeout(() => {
        process.stdout.write('loaded\\n' + FENCE + ${JSON.stringify(INIT_FENCE_KEY)} + '\\n');
        process.stderr.write(FENCE + ${JSON.stringify(INIT_FENCE_KEY)} + '\\n');
      }, 100);
    });
  } else if (message.type === 'invoke') {
    const id = message.id;
    process.send({ type: 'result', id, ok: id !== 2, value: 'done', error: { errorMessage: 'boom', errorType: 'Error', stackTrace: [] } }, () => {
      setTimeout(() => {
        process.stdout.write('printed by ' + id + '\\nno newline from ' + id + FENCE + id + '\\n');
        process.stderr.write('warned by ' + id + '\\n' + FENCE + id + '\\n');
      }, 100);
    });
  }
});
process.on('disconnect', () => process.exit(0));
`;

const context = {
  requestId: 'req-1',
  credentials: { accessKeyId: '', accessKeySecret: '', securityToken: '' },
  function: { name: 'late-output', handler: 'index.handler', memory: 128, timeout: 10 },
  region: 'cn-hangzhou',
  accountId: '1000000000000001',
};

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function startInstance(lines: string[]): FunctionInstance {
  const dir = mkdtempSync(join(tmpdir(), 'rdg-instance-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const bootstrapPath = join(dir, 'bootstrap.cjs');
  writeFileSync(bootstrapPath, LATE_OUTPUT_BOOTSTRAP);
  const instance = new FunctionInstance({
    functionName: 'late-output',
    bootstrapPath,
    modulePath: join(dir, 'unused.mjs'),
    exportName: 'handler',
    env: { PATH: process.env.PATH ?? '' },
    cwd: dir,
    memorySize: 128,
    onOutput: (line, stream) => lines.push(`${stream}: ${line}`),
    onExit: () => {},
  });
  cleanups.push(() => instance.stop());
  return instance;
}

describe('function instance output', () => {
  it('a cold start is ready only after what the module printed while loading is read', async () => {
    const lines: string[] = [];
    const instance = startInstance(lines);
    await instance.ready;
    expect(lines).toEqual(['stdout: loaded']);
  });

  it('an invocation settles only after the output printed before its result is read', async () => {
    const lines: string[] = [];
    const instance = startInstance(lines);
    const value = await instance.invoke(Buffer.from('{}'), context, Date.now() + 10_000, 10);
    expect(value).toBe('done');
    // At the moment the invocation settles, not later.
    expect(lines).toEqual([
      'stdout: loaded',
      'stdout: printed by 1',
      'stdout: no newline from 1',
      'stderr: warned by 1',
    ]);
  });

  it('so does a failed invocation', async () => {
    const lines: string[] = [];
    const instance = startInstance(lines);
    await instance.invoke(Buffer.from('{}'), context, Date.now() + 10_000, 10);
    const failed = await instance.invoke(Buffer.from('{}'), context, Date.now() + 10_000, 10).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect((failed as Error).message).toBe('late-output: Error: boom');
    expect(lines.slice(-3)).toEqual([
      'stdout: printed by 2',
      'stdout: no newline from 2',
      'stderr: warned by 2',
    ]);
  });
});

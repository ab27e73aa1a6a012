// The real localcloud process for durability tests: `localcloud/cli.ts cloud` on a data directory,
// started in a child process (so a test can kill it with SIGKILL, as a crash would) and read
// through the env.json it writes.

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LocalCloudEnv } from '../../localcloud';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface CloudProcess {
  child: ChildProcess;
  url: string;
  env: LocalCloudEnv;
}

/** Starts `localcloud/cli.ts cloud` on `dataDir` and resolves once it is ready. */
export async function startCloudProcess(
  dataDir: string,
  envFile: string,
  options: {
    organization?: string;
    /** Keep everything in memory (no data directory), e.g. for a large benchmark. */
    memory?: boolean;
    /** Extra node flags, e.g. a larger heap. */
    nodeFlags?: readonly string[];
  } = {},
): Promise<CloudProcess> {
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeFlags ?? []),
      '--import',
      'tsx',
      'localcloud/cli.ts',
      'cloud',
      '--port',
      '0',
      ...(options.memory ? ['--memory'] : ['--data-dir', dataDir]),
      '--env-json',
      envFile,
      ...(options.organization ? ['--org', options.organization] : []),
    ],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const ready = await new Promise<{ url: string }>((resolve, reject) => {
    let line = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      line += chunk.toString();
      const end = line.indexOf('\n');
      if (end >= 0) resolve(JSON.parse(line.slice(0, end)) as { url: string });
    });
    child.on('exit', (code) => reject(new Error(`localcloud exited (${code}):\n${output}`)));
  });
  const env = JSON.parse(readFileSync(envFile, 'utf8')) as LocalCloudEnv;
  return { child, url: ready.url, env };
}

/** SIGKILL, as a crash: no shutdown handler runs. Resolves once the process is gone. */
export function killHard(cloud: CloudProcess): Promise<void> {
  return new Promise((resolve) => {
    cloud.child.once('exit', () => resolve());
    cloud.child.kill('SIGKILL');
  });
}

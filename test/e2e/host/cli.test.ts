// localcloud/cli.ts as a user runs it: `cloud` prints one ready line, `start` prints a first
// curl that works, and both stop cleanly on a signal.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

interface Running {
  child: ChildProcess;
  stdout: () => string;
  exited: Promise<number | null>;
}

function runCli(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', 'localcloud/cli.ts', ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => `${out}${err ? `\n[stderr]\n${err}` : ''}`, exited };
}

async function waitForOutput(
  running: Running,
  pattern: RegExp,
  timeoutMs: number,
): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = running.stdout().match(pattern);
    if (match) return match;
    if (Date.now() > deadline || running.child.exitCode !== null) {
      throw new Error(`no output matching ${pattern}:\n${running.stdout()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('localcloud CLI', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  const scratch = () => {
    const dir = mkdtempSync(join(tmpdir(), 'rdg-cli-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };
  const track = (running: Running) => {
    cleanups.push(() => {
      if (running.child.exitCode === null) running.child.kill('SIGKILL');
    });
    return running;
  };

  it('cloud: prints one JSON ready line, writes env.json, stops on SIGTERM', async () => {
    const dir = scratch();
    const envFile = join(dir, 'env.json');
    const cli = track(runCli(['cloud', '--memory', '--port', '0', '--env-json', envFile]));
    const [line] = await waitForOutput(cli, /^\{.*\}$/m, 20_000);
    const ready = JSON.parse(line) as { ready: boolean; url: string; envFile: string };
    expect(ready).toMatchObject({ ready: true, envFile });
    expect(ready.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const env = JSON.parse(readFileSync(envFile, 'utf8')) as { url: string; accounts: unknown[] };
    expect(env.url).toBe(ready.url);
    expect(env.accounts.length).toBeGreaterThanOrEqual(24);
    expect((await fetch(`${ready.url}/__localcloud/env`)).status).toBe(200);

    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    await expect(fetch(`${ready.url}/__localcloud/env`)).rejects.toThrow();
  }, 30_000);

  it('start: prints the API, env.json and a first curl that answers; stops on SIGINT', async () => {
    const dir = scratch();
    const envFile = join(dir, 'env.json');
    const cli = track(
      runCli([
        'start',
        '--memory',
        '--port',
        '0',
        '--api-port',
        '0',
        '--no-watch',
        '--env-json',
        envFile,
      ]),
    );
    const [, token, apiUrl] = await waitForOutput(
      cli,
      /curl -s -H "Authorization: Bearer ([^"]+)" (http:\/\/127\.0\.0\.1:\d+)\/v1\/directory/,
      90_000,
    );
    expect(cli.stdout()).toContain(`env.json    ${envFile}`);
    const env = JSON.parse(readFileSync(envFile, 'utf8')) as {
      api: { url: string; token: string };
    };
    expect(env.api).toMatchObject({ url: apiUrl, token });
    expect(existsSync(join(dir, 'host.json'))).toBe(true);

    const response = await fetch(`${apiUrl}/v1/directory`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status, cli.stdout()).toBe(200);

    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
    expect(existsSync(join(dir, 'host.json'))).toBe(false);
  }, 100_000);

  it('start: refuses an environment Function Compute would refuse, naming function and variable', async () => {
    const dir = scratch();
    // A large ROLE_CATALOG_EXTRA takes every function over FC's 4 KB of environment variables.
    const entry = {
      service: 'extra',
      roleName: 'AliyunServiceRoleForExtra',
      serviceName: null,
      source: 'test',
    };
    const extra = JSON.stringify(Array.from({ length: 60 }, () => entry));
    const cli = track(
      runCli(
        [
          'start',
          '--memory',
          '--port',
          '0',
          '--api-port',
          '0',
          '--no-watch',
          '--env-json',
          join(dir, 'env.json'),
        ],
        { ROLE_CATALOG_EXTRA: extra },
      ),
    );
    expect(await cli.exited).toBe(1);
    expect(cli.stdout()).toMatch(
      /rdgov-api: environment variable ROLE_CATALOG_EXTRA .* over Function Compute's limit of 4096 bytes/,
    );
  }, 20_000);

  it('explains a bad flag', async () => {
    const cli = track(runCli(['start', '--port', 'eighty']));
    expect(await cli.exited).toBe(1);
    expect(cli.stdout()).toMatch(/--port must be a port number/);
  }, 20_000);
});

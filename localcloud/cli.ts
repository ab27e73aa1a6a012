// `npm start` and friends.
//
//   tsx localcloud/cli.ts start [--port N] [--api-port N] [--memory] [--data-dir DIR] [--org FILE]
//                              [--env-json FILE] [--s-yaml FILE] [--no-watch]
//       The local cloud (demo organization, durable under .localcloud/data) and every function
//       of s.yaml with its triggers, rebuilt when sources change. Prints the API, env.json and
//       a first curl.
//   tsx localcloud/cli.ts cloud [--port N] [--data-dir DIR] [--memory] [--org FILE] [--env-json FILE]
//       Only the local cloud; prints one JSON line {"ready":true,"url":...,"envFile":...}.
//   tsx localcloud/cli.ts timer <function> [trigger]      fire a timer of a running `start`
//   tsx localcloud/cli.ts event <function> <file.json>    deliver CloudEvent(s) to a running `start`
//
// Everything listens on 127.0.0.1 only. SIGINT/SIGTERM stop everything cleanly.
// (`--env-json`, not `--env-file`: node 20 takes `--env-file` anywhere on its command line as
// its own option, even after the script name.)

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import type { FunctionHost } from './host/index';
import { startLocalCloud } from './index';
import { REPO_ROOT, startLocalSystem } from './system';

const DEFAULT_ORGANIZATION = join(REPO_ROOT, 'localcloud', 'fixtures', 'demo-organization.yaml');
/** State (data, env.json, host.json) goes to `.localcloud/` in the folder the CLI runs in: the
 *  repository's root for `npm start` (npm runs scripts there) and for the README's commands. */
const STATE_DIR = resolve('.localcloud');
const DEFAULT_DATA_DIR = join(STATE_DIR, 'data');
const DEFAULT_ENV_FILE = join(STATE_DIR, 'env.json');
/** Where a running `start` says how to reach its host control endpoint: beside env.json. */
function hostControlFile(flags: Flags): string {
  return join(dirname(resolve(flags.values.get('env-json') ?? DEFAULT_ENV_FILE)), 'host.json');
}
const DEFAULT_CLOUD_PORT = 8790;
const DEFAULT_API_PORT = 8791;

interface Flags {
  positional: string[];
  values: Map<string, string>;
  switches: Set<string>;
}

const VALUE_FLAGS = new Set(['port', 'api-port', 'data-dir', 'org', 'env-json', 's-yaml']);

function parseFlags(args: string[]): Flags {
  const flags: Flags = { positional: [], values: new Map(), switches: new Set() };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('--')) {
      flags.positional.push(arg);
      continue;
    }
    const [name = '', inline] = arg.slice(2).split('=', 2);
    if (VALUE_FLAGS.has(name)) {
      const value = inline ?? args[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      flags.values.set(name, value);
    } else {
      flags.switches.add(name);
    }
  }
  return flags;
}

class UsageError extends Error {}

function portFlag(flags: Flags, name: string, fallback: number): number {
  const text = flags.values.get(name);
  if (text === undefined) return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--${name} must be a port number (0 = any free port), got ${text}`);
  }
  return port;
}

function dataDirFlag(flags: Flags): string | undefined {
  if (flags.switches.has('memory')) return undefined;
  return resolve(flags.values.get('data-dir') ?? DEFAULT_DATA_DIR);
}

function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n${signal}: stopping...\n`);
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`error while stopping: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}

/** A small loopback endpoint so `timer` and `event` can reach the host of a running `start`. */
async function startHostControl(host: FunctionHost): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body ?? null));
      };
      const [, kind, fn, trigger] = (req.url ?? '').split('/').map(decodeURIComponent);
      const run =
        kind === 'timer' && fn
          ? host.fireTimer(fn, trigger || undefined)
          : kind === 'event' && fn
            ? host.deliverEvent(fn, JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'))
            : Promise.reject(new Error(`unknown control request ${req.method} ${req.url}`));
      run.then(
        (result) => reply(200, { ok: true, result }),
        (error: unknown) => reply(400, { ok: false, error: (error as Error).message }),
      );
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return server;
}

async function start(flags: Flags): Promise<void> {
  const dataDir = dataDirFlag(flags);
  const organization = resolve(flags.values.get('org') ?? DEFAULT_ORGANIZATION);
  const system = await startLocalSystem({
    organization,
    ...(dataDir ? { dataDir } : {}),
    port: portFlag(flags, 'port', DEFAULT_CLOUD_PORT),
    apiPort: portFlag(flags, 'api-port', DEFAULT_API_PORT),
    envFile: resolve(flags.values.get('env-json') ?? DEFAULT_ENV_FILE),
    watch: !flags.switches.has('no-watch'),
    deployActions: true,
    productLogs: 'live',
    ...(flags.values.has('s-yaml') ? { sYamlPath: resolve(flags.values.get('s-yaml') ?? '') } : {}),
  });
  const control = await startHostControl(system.host);
  const controlUrl = `http://127.0.0.1:${(control.address() as AddressInfo).port}`;
  const controlFile = hostControlFile(flags);
  writeFileSync(controlFile, `${JSON.stringify({ control: controlUrl, pid: process.pid })}\n`);

  const { host, env } = system;
  const triggers = host.functions
    .map((fn) => `${fn.name} (${fn.triggers.map((t) => t.type).join(', ') || 'no triggers'})`)
    .join(', ');
  const api = host.apiUrl;
  const lines = [
    '',
    `localcloud  ${env.url}  (region ${env.region}, ${env.accounts.length} accounts, ${dataDir ? `data in ${dataDir}` : 'in memory'})`,
    `functions   ${triggers}${flags.switches.has('no-watch') ? '' : '  [rebuilt on change]'}`,
    `API         ${api || '(no HTTP-triggered function in s.yaml)'}`,
    `env.json    ${system.envFile}  (endpoints, account keys, API URL and tokens)`,
    '',
    'Tokens (operator, viewer) are in env.json as api.token / api.viewerToken. Try:',
    '',
    `  curl -s -H "Authorization: Bearer ${env.api?.token ?? ''}" ${api}/v1/directory`,
    '',
    'Fire a timer: npx tsx localcloud/cli.ts timer <function> [trigger]',
    'Send events:  npx tsx localcloud/cli.ts event <function> <cloudevents.json>',
    'Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  onShutdown(async () => {
    await new Promise<void>((ok) => control.close(() => ok()));
    rmSync(controlFile, { force: true });
    await system.stop();
  });
}

async function cloudOnly(flags: Flags): Promise<void> {
  const dataDir = dataDirFlag(flags);
  const envFile = resolve(flags.values.get('env-json') ?? DEFAULT_ENV_FILE);
  const org = flags.values.get('org');
  const cloud = await startLocalCloud({
    port: portFlag(flags, 'port', 0),
    ...(org ? { organization: resolve(org) } : { organization: DEFAULT_ORGANIZATION }),
    ...(dataDir ? { dataDir } : {}),
    envFile,
    productLogs: 'live',
  });
  process.stdout.write(`${JSON.stringify({ ready: true, url: cloud.url, envFile })}\n`);
  onShutdown(() => cloud.stop());
}

async function sendControl(flags: Flags, path: string, body?: string): Promise<void> {
  const controlFile = hostControlFile(flags);
  let control: string;
  try {
    control = (JSON.parse(readFileSync(controlFile, 'utf8')) as { control: string }).control;
  } catch {
    throw new UsageError(`no running \`npm start\` found (${controlFile} is missing)`);
  }
  const response = await fetch(`${control}${path}`, {
    method: 'POST',
    ...(body !== undefined ? { body } : {}),
  });
  const answer = (await response.json()) as { ok: boolean; result?: unknown; error?: string };
  if (!answer.ok) throw new Error(answer.error ?? `control request failed (${response.status})`);
  process.stdout.write(`${JSON.stringify(answer.result, null, 2)}\n`);
}

const USAGE = `usage:
  cli.ts start [--port N] [--api-port N] [--memory] [--data-dir DIR] [--org FILE] [--env-json FILE] [--s-yaml FILE] [--no-watch]
  cli.ts cloud [--port N] [--data-dir DIR] [--memory] [--org FILE] [--env-json FILE]
  cli.ts timer <function> [trigger]
  cli.ts event <function> <file.json>`;

async function main(argv: string[]): Promise<void> {
  const [command = 'start', ...rest] = argv;
  const flags = parseFlags(rest);
  switch (command) {
    case 'start':
      return start(flags);
    case 'cloud':
      return cloudOnly(flags);
    case 'timer': {
      const [fn, trigger] = flags.positional;
      if (!fn) throw new UsageError('timer needs a function name');
      return sendControl(
        flags,
        `/timer/${encodeURIComponent(fn)}/${encodeURIComponent(trigger ?? '')}`,
      );
    }
    case 'event': {
      const [fn, file] = flags.positional;
      if (!fn || !file) throw new UsageError('event needs a function name and a JSON file');
      return sendControl(
        flags,
        `/event/${encodeURIComponent(fn)}`,
        readFileSync(resolve(file), 'utf8'),
      );
    }
    case 'help':
    case '--help':
      process.stdout.write(`${USAGE}\n`);
      return;
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) process.stderr.write(`${error.message}\n${USAGE}\n`);
  else process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

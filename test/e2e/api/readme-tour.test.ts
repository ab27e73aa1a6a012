// The README's "A five-minute tour", run as a reader runs it: `npm start` in a folder of its own,
// then every command of the tour's shell blocks, exactly as written and in order, in one bash
// session from that folder. Nothing is substituted: the commands read the token, the addresses
// and the ids they need themselves. Each answer's HTTP status (curl is wrapped only to record
// the response headers to a file) and shape are checked, so a README edit that breaks the tour,
// or a change of the API that breaks the README, fails here.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ACTIVITY_ACTIONS } from '../../../shared/domain/activity';
import { errorEnvelopeSchema } from '../../../shared/http/app';
import { directoryResponseSchema } from '../../../shared/http/directory-routes';
import {
  activityResponseSchema,
  membersResponseSchema,
  prerequisitesResponseSchema,
  reconcileSummarySchema,
  runProgressSchema,
  scopeChangeResponseSchema,
} from '../../../shared/http/membership-routes';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** The tour's commands: its ```sh blocks, continuation lines joined, comment lines left out. */
function tourCommands(): string[] {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## A five-minute tour\n');
  const end = readme.indexOf('\n## ', start + 1);
  expect(start).toBeGreaterThan(0);
  const section = readme.slice(start, end);
  const commands: string[] = [];
  for (const [, block = ''] of section.matchAll(/```sh\n([\s\S]*?)\n\s*```/g)) {
    let pending = '';
    for (const raw of block.split('\n')) {
      const line = raw.trim();
      if (line.endsWith('\\')) {
        pending += `${line.slice(0, -1)} `;
        continue;
      }
      const command = `${pending}${line}`.trim();
      pending = '';
      if (command && !command.startsWith('#')) commands.push(command);
    }
  }
  return commands;
}

interface Answer {
  command: string;
  exitCode: number;
  output: string;
  /** HTTP status of each curl call the command made, in order. */
  statuses: number[];
}

/** Runs the commands in one bash session from `cwd`; one Answer per command. */
function runTour(commands: string[], cwd: string): Answer[] {
  const headers = join(cwd, 'tour-headers');
  mkdirSync(headers);
  const marker = '@@tour-step';
  const script = [
    // Records each response's headers (its status line) per step; stdout is the reader's.
    'curl() { mkdir -p "$TOUR_HEADERS/$TOUR_STEP"; command curl -D "$TOUR_HEADERS/$TOUR_STEP/$(date +%s%N)-$BASHPID" "$@"; }',
    ...commands.flatMap((command, step) => [
      `TOUR_STEP=${step}`,
      `echo "${marker} ${step}"`,
      command,
      `echo "${marker}-exit $?"`,
    ]),
  ].join('\n');
  const scriptFile = join(cwd, 'tour.sh');
  writeFileSync(scriptFile, `${script}\n`);
  const run = spawnSync('bash', [scriptFile], {
    cwd,
    env: { ...process.env, TOUR_HEADERS: headers },
    encoding: 'utf8',
    timeout: 180_000,
  });
  expect(run.error, run.stderr).toBeUndefined();
  const answers: Answer[] = [];
  const parts = run.stdout.split(new RegExp(`^${marker} (\\d+)\\n`, 'm'));
  for (let i = 1; i < parts.length; i += 2) {
    const step = Number(parts[i]);
    const body = parts[i + 1] ?? '';
    const exit = body.match(new RegExp(`\\n?${marker}-exit (\\d+)\\n$`));
    const dir = join(headers, String(step));
    const files = existsSync(dir) ? readdirSync(dir).sort() : [];
    answers.push({
      command: commands[step] ?? '',
      exitCode: exit ? Number(exit[1]) : -1,
      output: exit ? body.slice(0, exit.index) : body,
      statuses: files.map((file) => {
        const status = readFileSync(join(dir, file), 'utf8').match(/^HTTP\/[\d.]+ (\d{3})/);
        return status ? Number(status[1]) : 0;
      }),
    });
  }
  expect(
    answers.map((a) => a.command),
    run.stderr,
  ).toEqual(commands);
  return answers;
}

const json = (answer: Answer): unknown => JSON.parse(answer.output);

/**
 * What each command of the tour must answer, in the README's order: a pattern the command
 * matches (so the list and the README cannot drift apart unnoticed), its HTTP statuses, and a
 * check of what it printed.
 */
const EXPECTED: Array<{
  command: RegExp;
  /** Its curl calls' statuses in order, or (a polling loop) any number of them, each 200. */
  statuses: number[] | 'each 200';
  check?: (answer: Answer, earlier: Answer[]) => void;
}> = [
  { command: /^TOKEN=\$\(node -p .*\.api\.token"\)$/, statuses: [] },
  { command: /^API=\$\(node -p .*\.api\.url"\)$/, statuses: [] },
  { command: /^CLOUD=\$\(node -p .*\.url"\)$/, statuses: [] },
  {
    command: /accept: text\/plain' \$API\/v1\/directory$/,
    statuses: [200],
    check: (answer) => {
      const lines = answer.output.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^FOLDER ID\s+PATH\s+MEMBERS$/);
      expect(lines).toContainEqual(expect.stringMatching(/^fd-\w+\s+Root\/NonProduction\s+\d+$/));
      expect(lines.length).toBeGreaterThan(10);
    },
  },
  { command: /^FOLDER=\$\(curl .* \| awk /, statuses: [200] },
  {
    command: /\/v1\/directory\?folderId=\$FOLDER"$/,
    statuses: [200],
    check: (answer) => {
      const directory = directoryResponseSchema.parse(json(answer));
      expect(directory.root.path).toBe('Root/NonProduction');
      expect(directory.members.map((m) => m.displayName)).toContain('Sandbox Bob');
      expect(directory.members.every((m) => m.folderPath.startsWith('Root/NonProduction'))).toBe(
        true,
      );
    },
  },
  {
    command: /^curl -s \$API\/v1\/directory$/,
    statuses: [401],
    check: (answer) => expect(errorEnvelopeSchema.parse(json(answer)).code).toBe('Unauthenticated'),
  },
  {
    command: /folderId=bad"$/,
    statuses: [400],
    check: (answer) => {
      const error = errorEnvelopeSchema.parse(json(answer));
      expect(error.code).toBe('InvalidRequest');
      expect(error.details).toMatchObject({ issues: [{ location: 'query', field: 'folderId' }] });
    },
  },
  {
    command: /\/v1\/prerequisites$/,
    statuses: [200],
    check: (answer) => expect(prerequisitesResponseSchema.parse(json(answer)).ok).toBe(true),
  },
  {
    command:
      /^curl -s -X POST .*"targetId":"'"\$FOLDER"'".* \$API\/v1\/scopes \| tee \.localcloud\/scope\.json$/,
    statuses: [202],
    check: (answer) => {
      // Answered once stored: the run onboards the members afterwards.
      const { scope, created, run } = scopeChangeResponseSchema.parse(json(answer));
      expect(scope.kind).toBe('folder');
      expect(scope.services).toEqual(['security-center']);
      expect(created).toBe(true);
      expect(run).toMatchObject({ reason: 'scope-added', scopeId: scope.id });
      expect(['planning', 'running', 'finished']).toContain(run.state);
    },
  },
  {
    command: /^RUN=\$\(node -p "require\('\.\/\.localcloud\/scope\.json'\)\.run\.runId"\)$/,
    statuses: [],
  },
  {
    command: /^while curl .*\/v1\/reconcile\/runs\/\$RUN \| grep -qE .*; do sleep 1; done$/,
    // As many reads as the run took, each 200.
    statuses: 'each 200',
  },
  {
    command: /\$API\/v1\/reconcile\/runs\/\$RUN$/,
    statuses: [200],
    check: (answer) => {
      const run = runProgressSchema.parse(json(answer));
      expect(run.state).toBe('finished');
      expect(run.pending).toBe(0);
      expect(run.pendingAccountIds).toEqual([]);
      expect(run.estimatedSecondsLeft).toBe(0);
      expect(run.summary?.added.length).toBeGreaterThanOrEqual(5);
      expect(run.failed).toBe(1);
      expect(run.summary?.failed.map((f) => f.roleArn)).toEqual([
        expect.stringMatching(/^acs:ram::\d{16}:role\/ResourceDirectoryAccountAccessRole$/),
      ]);
    },
  },
  {
    command: /\$API\/v1\/members$/,
    statuses: [200],
    check: (answer) => {
      const { members } = membersResponseSchema.parse(json(answer));
      expect(members.length).toBeGreaterThanOrEqual(5);
      expect(members.every((m) => m.folderPath?.startsWith('Root/NonProduction'))).toBe(true);
      expect(members.filter((m) => m.status === 'managed').length).toBe(members.length - 1);
    },
  },
  {
    command: /\/v1\/members\?status=unreachable"$/,
    statuses: [200],
    check: (answer) => {
      const { members } = membersResponseSchema.parse(json(answer));
      expect(members.map((m) => [m.displayName, m.status])).toEqual([
        ['Sandbox Bob', 'unreachable'],
      ]);
      expect(members[0]?.failure?.roleArn).toMatch(/:role\/ResourceDirectoryAccountAccessRole$/);
    },
  },
  {
    command: /\/v1\/activity\?limit=5"$/,
    statuses: [200],
    check: (answer) => {
      const { items } = activityResponseSchema.parse(json(answer));
      expect(items).toHaveLength(5);
      for (const item of items) {
        expect(Object.keys(ACTIVITY_ACTIONS)).toContain(item.action);
        expect(item.cause).toEqual({ kind: 'user', identity: expect.any(String) });
      }
    },
  },
  {
    command: /^curl -s -X POST \$CLOUD\/__localcloud\/members .*"name":"new-team"/,
    statuses: [201],
    check: (answer) =>
      expect(json(answer)).toMatchObject({ id: expect.stringMatching(/^\d{16}$/) }),
  },
  {
    command: /__localcloud\/calls\?service=resourcemanager" \| head$/,
    statuses: [200],
    check: (answer) => {
      expect(answer.output.split('\n')[0]).toBe('{');
      expect(answer.output).toContain('"service": "resourcemanager"');
    },
  },
  {
    command: /^npx tsx localcloud\/cli\.ts timer reconcile$/,
    statuses: [],
    check: (answer) => {
      const { reconciled } = z.object({ reconciled: reconcileSummarySchema }).parse(json(answer));
      expect(reconciled.kind).toBe('full');
      expect(reconciled.failed.map((f) => f.accountId)).toHaveLength(1); // sandbox-bob, still
    },
  },
  {
    command: /\/v1\/activity\?limit=5"$/,
    statuses: [200],
    check: (answer, earlier) => {
      const created = earlier.find((a) => a.command.includes('"name":"new-team"'));
      const newTeam = (JSON.parse(created?.output ?? '{}') as { id?: string }).id;
      const { items } = activityResponseSchema.parse(json(answer));
      // Managed through the event or the reconcile run: either way, onboarded once.
      expect(
        items.filter((e) => e.accountId === newTeam && e.action === 'member.onboarded'),
      ).toHaveLength(1);
    },
  },
  {
    command: /^curl -s \$CLOUD\/__localcloud\/sls\/products$/,
    statuses: [200],
    check: (answer) => {
      const { products } = z
        .object({
          products: z.array(
            z.object({ accountId: z.string(), product: z.string(), written: z.number() }),
          ),
        })
        .parse(json(answer));
      expect(products.length).toBeGreaterThanOrEqual(5);
    },
  },
];

let scratch: string;
let start: ChildProcess | undefined;
let startOutput = '';

beforeAll(async () => {
  // A folder of the reader's own: the repository's code, linked, and nothing of its state.
  scratch = mkdtempSync(join(tmpdir(), 'rdg-tour-'));
  for (const entry of ['package.json', 'tsconfig.json', 'localcloud', 'node_modules']) {
    symlinkSync(join(REPO, entry), join(scratch, entry));
  }
  // `npm start`, with ports any free ones and without watching sources (nothing changes them
  // here); everything else as a reader runs it, state under ./.localcloud.
  start = spawn('npm', ['start', '--', '--port', '0', '--api-port', '0', '--no-watch'], {
    cwd: scratch,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  start.stdout?.on('data', (chunk: Buffer) => {
    startOutput += chunk.toString();
  });
  start.stderr?.on('data', (chunk: Buffer) => {
    startOutput += chunk.toString();
  });
  const deadline = Date.now() + 110_000;
  while (!/^API\s+http:\/\/127\.0\.0\.1:\d+/m.test(startOutput)) {
    if (Date.now() > deadline || start.exitCode !== null) {
      throw new Error(`npm start did not come up:\n${startOutput}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}, 120_000);

afterAll(async () => {
  if (start?.pid !== undefined && start.exitCode === null) {
    const exited = new Promise((resolve) => start?.once('exit', resolve));
    // The whole process group: npm, its shell and the system under it, as Ctrl-C would.
    process.kill(-start.pid, 'SIGINT');
    await exited;
  }
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}, 30_000);

describe('the README tour', () => {
  it('runs as written, and every command answers as the README says', () => {
    const commands = tourCommands();
    expect(commands.map((command, i) => [i, EXPECTED[i]?.command.test(command)])).toEqual(
      commands.map((_, i) => [i, true]),
    );
    expect(commands).toHaveLength(EXPECTED.length);

    const answers = runTour(commands, scratch);
    answers.forEach((answer, i) => {
      const expected = EXPECTED[i];
      const what = `${answer.command}\n${answer.output.slice(0, 2000)}`;
      expect(answer.exitCode, what).toBe(0);
      if (expected?.statuses === 'each 200') {
        expect(answer.statuses.length, what).toBeGreaterThan(0);
        expect(new Set(answer.statuses), what).toEqual(new Set([200]));
      } else {
        expect(answer.statuses, what).toEqual(expected?.statuses);
      }
      expected?.check?.(answer, answers.slice(0, i));
    });
  }, 200_000);
});

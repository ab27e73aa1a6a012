// A log worker in a process of its own, for tests that kill it with SIGKILL as a crash would:
// it builds the worker's dependencies over a local cloud the test runs (test/support/
// log-connection.ts), pulls one chunk, and prints a line at each crash point so the
// test can time its kill. Argument: JSON {connection, clockOffsetMs, chunk, puller}.

import type { WorkerChunk } from '../../shared/logs/planner';
import type { PullerSettings } from '../../shared/logs/puller';
import { DEFAULT_PULLER_SETTINGS, pullChunk } from '../../shared/logs/puller';
import { silentLogger } from '../../shared/runtime/logger';
import { connectLogDeps, type LogConnection } from './log-connection';

interface Arguments {
  connection: LogConnection;
  /** localcloud's clock runs this far ahead of the wall clock. */
  clockOffsetMs: number;
  chunk: WorkerChunk;
  puller: Partial<PullerSettings>;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as Arguments;
  const clock = { now: () => Date.now() + args.clockOffsetMs };
  const { logs, memberLogs, central } = connectLogDeps(args.connection, clock);
  process.stdout.write('started\n');
  const outcome = await pullChunk(
    {
      store: logs,
      memberLogs,
      central: { sink: central.service, address: central.address },
      clock,
      logger: silentLogger,
      settings: { ...DEFAULT_PULLER_SETTINGS, ...args.puller },
      crashPoint: (point) => {
        process.stdout.write(`${point}\n`);
      },
    },
    args.chunk,
    clock.now() + 60_000,
  );
  const outcomes = outcome.shards.map(
    (s) => `${s.shardId}:${s.outcome}${s.error ? `(${s.error})` : ''}`,
  );
  process.stdout.write(`done ${outcome.logs} ${outcomes.join(' ')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

// The SLS (Log Service) trigger of Function Compute, locally: every `triggerInterval` seconds,
// for each shard of the source Logstore whose end cursor moved since the last successful
// invocation, the function is invoked with FC's log trigger event ({parameter, source{endpoint,
// projectName, logstoreName, shardId, beginCursor, endCursor}, jobName, taskId, cursorTime}).
// The shard's checkpoint advances only when an invocation succeeds; a failed one is retried up
// to `maxRetryTime` times in the same run, then the range waits for the next run (it is never
// skipped). Shards present when the trigger starts begin at their end (new data only, as a new
// trigger does); shards that appear later (split or merge children) begin at their beginning.

import { createHash, randomUUID } from 'node:crypto';
import type { LogTriggerSpec } from './s-yaml';
import type { SchedulerClock } from './scheduler';

/** What the trigger reads of SLS: the local cloud's SLS emulator provides it. */
export interface LogTriggerSource {
  /** The Logstore's shards, or undefined when the project or Logstore does not exist. */
  shards(
    region: string,
    project: string,
    logstore: string,
  ): Array<{ shardId: number; readonly: boolean }> | undefined;
  cursor(
    region: string,
    project: string,
    logstore: string,
    shardId: number,
    from: 'begin' | 'end',
  ): string;
  /** Receive time (epoch seconds) of the data at a cursor. */
  cursorTime(
    region: string,
    project: string,
    logstore: string,
    shardId: number,
    cursor: string,
  ): number;
  /** Appends one record to a Logstore (the trigger's run log); ignored when it does not exist. */
  writeLog?(
    region: string,
    project: string,
    logstore: string,
    record: Record<string, string>,
  ): void;
}

export interface LogTriggerEvent {
  parameter: Record<string, unknown>;
  source: {
    endpoint: string;
    projectName: string;
    logstoreName: string;
    shardId: number;
    beginCursor: string;
    endCursor: string;
  };
  jobName: string;
  taskId: string;
  cursorTime: number;
}

export interface LogTriggerRun {
  /** Invocations that succeeded (one per shard with new data). */
  delivered: number;
  /** Shards whose range failed after every retry (left for the next run). */
  failed: number;
}

export class LogTriggerRunner {
  private readonly checkpoints = new Map<number, string>();
  private readonly region: string;
  private readonly jobName: string;
  private timer: unknown;
  private running: Promise<LogTriggerRun> | undefined;
  private stopped = false;

  constructor(
    readonly functionName: string,
    readonly spec: LogTriggerSpec,
    private readonly source: LogTriggerSource,
    private readonly invoke: (event: LogTriggerEvent) => Promise<unknown>,
    private readonly clock: SchedulerClock,
    private readonly log: (line: string) => void,
    defaultRegion: string,
  ) {
    this.region = spec.region ?? defaultRegion;
    this.jobName = createHash('sha1')
      .update(`${functionName}/${spec.name}/${spec.project}/${spec.logstore}`)
      .digest('hex');
  }

  /** Takes the current end of every shard as the starting point and (unless `schedule` is
   *  false) runs every triggerInterval seconds. */
  start(schedule = true): void {
    for (const shard of this.shardList() ?? []) {
      this.checkpoints.set(shard.shardId, this.cursor(shard.shardId, 'end'));
    }
    if (schedule) this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      this.run().finally(() => this.schedule());
    }, this.spec.triggerInterval * 1000);
  }

  private shardList() {
    return this.source.shards(this.region, this.spec.project, this.spec.logstore);
  }

  private cursor(shardId: number, from: 'begin' | 'end'): string {
    return this.source.cursor(this.region, this.spec.project, this.spec.logstore, shardId, from);
  }

  /** One run now (a run already under way is joined, not repeated). */
  run(): Promise<LogTriggerRun> {
    if (!this.running) {
      this.running = this.runShards().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private async runShards(): Promise<LogTriggerRun> {
    const shards = this.shardList();
    if (!shards) {
      this.log(
        `${this.functionName}: log trigger ${this.spec.name}: ${this.spec.project}/${this.spec.logstore} does not exist; nothing to read`,
      );
      return { delivered: 0, failed: 0 };
    }
    const results = await Promise.all(shards.map((shard) => this.runShard(shard.shardId)));
    return {
      delivered: results.filter((r) => r === 'delivered').length,
      failed: results.filter((r) => r === 'failed').length,
    };
  }

  private async runShard(shardId: number): Promise<'idle' | 'delivered' | 'failed'> {
    let begin = this.checkpoints.get(shardId);
    if (begin === undefined) {
      begin = this.cursor(shardId, 'begin');
      this.checkpoints.set(shardId, begin);
    }
    const end = this.cursor(shardId, 'end');
    if (end === begin) return 'idle';
    const { project, logstore } = this.spec;
    let lastError = '';
    for (let attempt = 0; attempt <= this.spec.maxRetryTime; attempt++) {
      if (this.stopped) return 'failed';
      const event: LogTriggerEvent = {
        parameter: this.spec.functionParameter,
        source: {
          endpoint: `http://${this.region}-intranet.log.aliyuncs.com`,
          projectName: project,
          logstoreName: logstore,
          shardId,
          beginCursor: begin,
          endCursor: end,
        },
        jobName: this.jobName,
        taskId: randomUUID(),
        cursorTime: this.source.cursorTime(this.region, project, logstore, shardId, begin),
      };
      try {
        await this.invoke(event);
        this.checkpoints.set(shardId, end);
        this.runLog(event, 'Success', '');
        return 'delivered';
      } catch (error) {
        lastError = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
        this.runLog(event, 'Failed', lastError);
      }
    }
    this.log(
      `${this.functionName}: log trigger ${this.spec.name}: shard ${shardId} failed ${this.spec.maxRetryTime + 1} time(s), range kept for the next run: ${lastError}`,
    );
    return 'failed';
  }

  private runLog(event: LogTriggerEvent, status: string, message: string): void {
    this.source.writeLog?.(this.region, this.spec.logConfig.project, this.spec.logConfig.logstore, {
      jobName: event.jobName,
      taskId: event.taskId,
      functionName: this.functionName,
      triggerName: this.spec.name,
      shardId: String(event.source.shardId),
      beginCursor: event.source.beginCursor,
      endCursor: event.source.endCursor,
      status,
      message,
    });
  }
}

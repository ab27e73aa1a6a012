// Decoders for the non-HTTP trigger events FC delivers as a Buffer of JSON: timer ticks and
// EventBridge CloudEvents. The event-streaming delivery of EventBridge batches events into a JSON
// array, the default one sends a single object; both decode to an array.

import { z } from 'zod';

export class MalformedTriggerEvent extends Error {
  override readonly name = 'MalformedTriggerEvent';
}

function parseJson(event: unknown, kind: string): unknown {
  if (Buffer.isBuffer(event) || event instanceof Uint8Array || typeof event === 'string') {
    const text = typeof event === 'string' ? event : Buffer.from(event).toString('utf8');
    try {
      return JSON.parse(text);
    } catch {
      throw new MalformedTriggerEvent(`The ${kind} event is not JSON`);
    }
  }
  return event;
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'event'}: ${i.message}`).join('; ');
}

export const timerEventSchema = z.looseObject({
  triggerTime: z.iso.datetime({ offset: true }),
  triggerName: z.string().min(1),
  payload: z.string().default(''),
});

export type TimerEvent = z.infer<typeof timerEventSchema>;

/** A JSON event (bytes, text or parsed) checked against `schema`; `kind` names it in errors. */
export function decodeJsonEvent<S extends z.ZodType>(
  event: unknown,
  schema: S,
  kind: string,
): z.output<S> {
  const parsed = schema.safeParse(parseJson(event, kind));
  if (!parsed.success) {
    throw new MalformedTriggerEvent(
      `The ${kind} event is malformed: ${describeIssues(parsed.error)}`,
    );
  }
  return parsed.data;
}

export function decodeTimerEvent(event: unknown): TimerEvent {
  return decodeJsonEvent(event, timerEventSchema, 'timer');
}

export const cloudEventSchema = z.looseObject({
  specversion: z.string().min(1),
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  time: z.string().optional(),
  subject: z.string().optional(),
  datacontenttype: z.string().optional(),
  data: z.unknown().optional(),
  aliyunaccountid: z.string().optional(),
  aliyunregionid: z.string().optional(),
  aliyuneventbusname: z.string().optional(),
});

export type CloudEvent = z.infer<typeof cloudEventSchema>;

/** One CloudEvent or a batch of them, always as an array (empty batches are refused). */
export function decodeCloudEvents(event: unknown): CloudEvent[] {
  const parsed = z
    .union([cloudEventSchema.transform((e) => [e]), z.array(cloudEventSchema).min(1)])
    .safeParse(parseJson(event, 'EventBridge'));
  if (!parsed.success) {
    throw new MalformedTriggerEvent(
      `The EventBridge event is not a CloudEvent or a non-empty array of them: ${describeIssues(parsed.error)}`,
    );
  }
  return parsed.data;
}

export const logTriggerEventSchema = z.looseObject({
  parameter: z.record(z.string(), z.unknown()).default({}),
  source: z.looseObject({
    endpoint: z.string(),
    projectName: z.string().min(1),
    logstoreName: z.string().min(1),
    shardId: z.number().int().min(0),
    beginCursor: z.string().min(1),
    endCursor: z.string().min(1),
  }),
  jobName: z.string(),
  taskId: z.string(),
  cursorTime: z.number(),
});

/** FC's SLS (log) trigger event: one shard's cursor range of the source Logstore. */
export type LogTriggerEvent = z.infer<typeof logTriggerEventSchema>;

export function decodeLogTriggerEvent(event: unknown): LogTriggerEvent {
  return decodeJsonEvent(event, logTriggerEventSchema, 'log trigger');
}

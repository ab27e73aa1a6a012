import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decodeCloudEvents,
  decodeLogTriggerEvent,
  decodeTimerEvent,
  MalformedTriggerEvent,
} from '../../../shared/runtime/trigger-events';

const cloudEvent = {
  specversion: '1.0',
  id: '45ef4dewdwe1-7c35-447a-bd93-fab****',
  source: 'acs.actiontrail',
  type: 'actiontrail:ResourceManager:ApiCall',
  time: '2024-01-01T00:00:00Z',
  aliyunaccountid: '1000000000000001',
  data: { eventName: 'CreateResourceAccount' },
};

describe('timer events', () => {
  it('decodes the FC timer payload from a Buffer', () => {
    const event = decodeTimerEvent(
      Buffer.from(
        JSON.stringify({
          triggerTime: '2024-01-01T00:05:00Z',
          triggerName: 'reconcile',
          payload: '{"full":true}',
        }),
      ),
    );
    expect(event).toEqual({
      triggerTime: '2024-01-01T00:05:00Z',
      triggerName: 'reconcile',
      payload: '{"full":true}',
    });
  });

  it('refuses a malformed timer event, naming the field', () => {
    expect(() => decodeTimerEvent(Buffer.from('{"triggerName":"x"}'))).toThrow(/triggerTime/);
    expect(() => decodeTimerEvent(Buffer.from('x'))).toThrow(MalformedTriggerEvent);
  });
});

describe('EventBridge CloudEvents', () => {
  it('decodes a single event as a one-element array', () => {
    const events = decodeCloudEvents(Buffer.from(JSON.stringify(cloudEvent)));
    expect(events).toHaveLength(1);
    expect(events[0]?.data).toEqual({ eventName: 'CreateResourceAccount' });
  });

  it('decodes an event-streaming batch', () => {
    const events = decodeCloudEvents(
      Buffer.from(JSON.stringify([cloudEvent, { ...cloudEvent, id: 'b' }])),
    );
    expect(events.map((e) => e.id)).toEqual([cloudEvent.id, 'b']);
  });

  it('refuses empty batches and events without required attributes', () => {
    expect(() => decodeCloudEvents(Buffer.from('[]'))).toThrow(MalformedTriggerEvent);
    expect(() =>
      decodeCloudEvents(Buffer.from(JSON.stringify({ ...cloudEvent, id: undefined }))),
    ).toThrow(/id/);
  });
});

describe('SLS log trigger events', () => {
  const sample = readFileSync(new URL('../../fixtures/fc3-events/sls.json', import.meta.url));

  it("decodes FC's log trigger event (the documented sample) to its cursor range", () => {
    const event = decodeLogTriggerEvent(sample);
    expect(event.source).toEqual({
      endpoint: 'http://cn-shanghai-intranet.log.aliyuncs.com',
      projectName: 'log-com',
      logstoreName: 'log-en',
      shardId: 0,
      beginCursor: 'MTUyOTQ4MDIwOTY1NTk3ODQ2Mw==',
      endCursor: 'MTUyOTQ4MDIwOTY1NTk3ODQ2NA==',
    });
  });

  it('refuses an event without a cursor range, naming the field', () => {
    const event = JSON.parse(sample.toString('utf8')) as { source: Record<string, unknown> };
    delete event.source.endCursor;
    expect(() => decodeLogTriggerEvent(JSON.stringify(event))).toThrow(
      /log trigger event is malformed: source\.endCursor/,
    );
  });
});

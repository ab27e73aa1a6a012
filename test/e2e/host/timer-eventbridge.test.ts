// Timer triggers (on their cron, with the clock under the test's control, and on demand) and
// EventBridge triggers (single events and batches, filtered by the trigger's rule).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EventNotDeliveredError,
  type FunctionHost,
  ManualSchedulerClock,
  startFunctionHost,
  TriggerNotFoundError,
} from '../../../localcloud/host/index';
import type { LocalCloud } from '../../../localcloud/index';
import { LogCapture } from '../../support/function-host';
import { HOST_APP_S_YAML, startHostTestCloud } from '../../support/host-cloud';

const rdEvent = (eventName: string, id = eventName) => ({
  specversion: '1.0',
  id,
  source: 'acs.resourcemanager',
  type: 'resourcemanager:ActionTrail:ApiCall',
  subject: 'acs:resourcemanager::1000000000000001:account',
  time: '2024-01-01T00:00:00Z',
  datacontenttype: 'application/json;charset=utf-8',
  data: { eventName, requestParameters: { AccountId: '2000000000000002' } },
});

describe('timer and EventBridge triggers', () => {
  let cloud: LocalCloud;
  let host: FunctionHost;
  const clock = new ManualSchedulerClock(new Date('2024-01-01T00:03:00Z'));
  const output = new LogCapture();

  beforeAll(async () => {
    cloud = await startHostTestCloud();
    host = await startFunctionHost({
      sYamlPath: HOST_APP_S_YAML,
      cloud: cloud.env,
      clock,
      log: output.log,
    });
  });

  afterAll(async () => {
    await host?.stop();
    await cloud?.stop();
  });

  it('schedules enabled timers only, at their next cron time', () => {
    expect(host.nextTimerFires()).toEqual({
      'host-timer/every-five-minutes': new Date('2024-01-01T00:05:00Z'),
    });
  });

  it('fires a timer on its cron as the clock reaches it, with the FC timer event', async () => {
    clock.advanceTo(new Date('2024-01-01T00:04:59Z'));
    expect(output.lines.some((l) => l.includes('TIMER'))).toBe(false);

    clock.advanceTo(new Date('2024-01-01T00:05:00Z'));
    const line = await output.waitFor(/^\[host-timer\] TIMER /);
    expect(JSON.parse(line.replace('[host-timer] TIMER ', ''))).toEqual({
      triggerTime: '2024-01-01T00:05:00Z',
      triggerName: 'every-five-minutes',
      payload: '{"job":"reconcile"}',
    });
    expect(host.nextTimerFires()['host-timer/every-five-minutes']).toEqual(
      new Date('2024-01-01T00:10:00Z'),
    );
  });

  it('fires every due time when the clock jumps past several', async () => {
    clock.advanceTo(new Date('2024-01-01T00:20:00Z'));
    for (const time of ['00:10:00', '00:15:00', '00:20:00']) {
      await output.waitFor(new RegExp(`TIMER .*"triggerTime":"2024-01-01T${time}Z"`));
    }
  });

  it('fires a timer on demand and returns what the handler returned', async () => {
    const result = (await host.fireTimer('host-timer')) as {
      timer: { triggerName: string; triggerTime: string; payload: string };
      context: { function: { name: string }; credentials: { stsKey: boolean } };
    };
    expect(result.timer.triggerName).toBe('every-five-minutes');
    expect(result.timer.payload).toBe('{"job":"reconcile"}');
    expect(result.timer.triggerTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(result.context.function.name).toBe('host-timer');
    expect(result.context.credentials.stsKey).toBe(true);
  });

  it('does not fire a disabled timer, and names a missing one', async () => {
    await expect(host.fireTimer('host-timer', 'nightly-disabled')).rejects.toThrow(/disabled/);
    await expect(host.fireTimer('host-timer', 'hourly')).rejects.toThrow(TriggerNotFoundError);
    await expect(host.fireTimer('host-http')).rejects.toThrow(/host-http has no timer trigger/);
    await expect(host.fireTimer('no-such-function')).rejects.toThrow(/no function named/);
  });

  it('delivers a single CloudEvent that matches the rule', async () => {
    const event = rdEvent('CreateResourceAccount');
    const result = (await host.deliverEvent('host-events', event)) as {
      received: unknown;
      batch: boolean;
    };
    expect(result).toMatchObject({ received: event, batch: false });
  });

  it('delivers a batch, keeping only the events that match the rule', async () => {
    const batch = [
      rdEvent('MoveAccount', 'e1'),
      { ...rdEvent('MoveAccount', 'e2'), source: 'acs.ecs' },
      rdEvent('RemoveCloudAccount', 'e3'),
      rdEvent('DescribeRegions', 'e4'),
    ];
    const result = (await host.deliverEvent('host-events', batch)) as {
      received: Array<{ id: string }>;
      batch: boolean;
    };
    expect(result.batch).toBe(true);
    expect(result.received.map((e) => e.id)).toEqual(['e1', 'e3']);
  });

  it('does not deliver events the rule filters out', async () => {
    await expect(
      host.deliverEvent('host-events', { ...rdEvent('MoveAccount'), source: 'acs.ecs' }),
    ).rejects.toThrow(EventNotDeliveredError);
    await expect(host.deliverEvent('host-events', [rdEvent('DescribeRegions')])).rejects.toThrow(
      /no event matches the eventRuleFilterPattern/,
    );
  });

  it('invokes any function directly with a payload', async () => {
    const result = (await host.invoke('host-events', { anything: 1 })) as { received: unknown };
    expect(result.received).toEqual({ anything: 1 });
  });
});

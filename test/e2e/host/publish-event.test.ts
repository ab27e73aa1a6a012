// Publishing CloudEvents to the function host as EventBridge routes them (host.publishEvent),
// and the local system forwarding the local cloud's ActionTrail events of directory changes to
// the functions whose EventBridge trigger matches. The host-app's `host-events` function takes
// resourcemanager ActionTrail events named CreateResourceAccount, MoveAccount or
// RemoveCloudAccount.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventPublishError } from '../../../localcloud/host/index';
import type { ActionTrailCloudEvent, OrganizationFixture } from '../../../localcloud/index';
import { type LocalSystem, startLocalSystem } from '../../../localcloud/system';
import { LogCapture } from '../../support/function-host';
import { FUNCTION_ROLE, HOST_APP_S_YAML } from '../../support/host-cloud';

const organization: OrganizationFixture = {
  seed: 'host-publish',
  region: 'cn-hangzhou',
  management: {
    name: 'host-publish-management',
    roles: [{ name: FUNCTION_ROLE, trustedServices: ['fc.aliyuncs.com'] }],
  },
  members: [{ name: 'host-publish-member' }],
  servicePrincipals: ['fc.aliyuncs.com'],
};

function startSystem(output: LogCapture, forwardDirectoryEvents: boolean): Promise<LocalSystem> {
  return startLocalSystem({
    organization,
    port: 0,
    envFile: false,
    sYamlPath: HOST_APP_S_YAML,
    forwardDirectoryEvents,
    host: { log: output.log, schedule: false },
  });
}

function lastEvent(system: LocalSystem): ActionTrailCloudEvent {
  const entry = system.cloud.events().at(-1);
  if (!entry) throw new Error('the local cloud recorded no event');
  return entry.event;
}

describe('host.publishEvent', () => {
  let system: LocalSystem;
  const output = new LogCapture();

  beforeAll(async () => {
    system = await startSystem(output, false);
  }, 60_000);
  afterAll(async () => {
    await system?.stop();
  });

  it('delivers an event to the functions whose trigger matches it', async () => {
    system.cloud.control.createMember({ name: 'publish-created' });
    const event = lastEvent(system);
    expect(event.data.eventName).toBe('CreateResourceAccount');
    await expect(system.host.publishEvent(event)).resolves.toEqual({ delivered: ['host-events'] });
  });

  it('delivers to no function when no trigger matches', async () => {
    const member = system.cloud.control.createMember({ name: 'publish-deleted' });
    system.cloud.control.removeMember(member.id);
    const deleted = lastEvent(system);
    expect(deleted.data.eventName).toBe('DeleteAccount'); // not in the trigger's eventName list
    await expect(system.host.publishEvent(deleted)).resolves.toEqual({ delivered: [] });
    const moved = { ...lastEvent(system), data: { ...deleted.data, eventName: 'MoveAccount' } };
    await expect(system.host.publishEvent({ ...moved, source: 'acs.ecs' })).resolves.toEqual({
      delivered: [],
    });
    await expect(system.host.publishEvent(moved)).resolves.toEqual({ delivered: ['host-events'] });
  });

  it('takes one CloudEvent, not a batch', async () => {
    await expect(system.host.publishEvent([lastEvent(system)])).rejects.toThrow(TypeError);
  });

  it('does not forward the cloud events itself when forwarding is off', async () => {
    system.cloud.control.createMember({ name: 'publish-not-forwarded' });
    // An explicit publish goes after anything a forwarder would have queued.
    await system.host.publishEvent(lastEvent(system));
    expect(output.lines.filter((line) => line.startsWith('[eventbridge]'))).toEqual([]);
  });
});

describe('forwarding directory events (startLocalSystem)', () => {
  let system: LocalSystem;
  const output = new LogCapture();

  beforeAll(async () => {
    system = await startSystem(output, true);
  }, 60_000);
  afterAll(async () => {
    await system?.stop();
  });

  it('delivers each directory change to the matching function, in order', async () => {
    const created = system.cloud.control.createMember({ name: 'forward-created' });
    const createdEvent = lastEvent(system);
    const invited = system.cloud.control.inviteMember({ name: 'forward-invited' });
    const folder = system.cloud.control.organization().rootFolderId;
    system.cloud.control.moveMember(created.id, folder);
    const movedEvent = lastEvent(system);
    system.cloud.control.removeMember(invited.id);
    const removedEvent = lastEvent(system);
    expect(removedEvent.data.eventName).toBe('RemoveCloudAccount');

    await output.waitFor(new RegExp(`^\\[eventbridge\\] RemoveCloudAccount ${removedEvent.id} `));
    const lines = output.lines.filter((line) => line.startsWith('[eventbridge]'));
    expect(lines).toEqual([
      `[eventbridge] CreateResourceAccount ${createdEvent.id} -> host-events`,
      `[eventbridge] MoveAccount ${movedEvent.id} -> host-events`,
      `[eventbridge] RemoveCloudAccount ${removedEvent.id} -> host-events`,
    ]);
  });

  it('logs a failed delivery as one line and keeps forwarding', async () => {
    // The function's role is gone and its cached credentials have expired: the invocation fails.
    const managementId = system.env.managementAccountId;
    system.cloud.control.deleteRole(managementId, FUNCTION_ROLE);
    system.cloud.control.advanceClock(2 * 3600);
    system.cloud.control.createMember({ name: 'forward-failing' });
    const failing = lastEvent(system);
    const line = await output.waitFor(
      new RegExp(`^\\[eventbridge\\] CreateResourceAccount ${failing.id} not delivered: `),
    );
    expect(line).toContain('host-events');
    expect(line).not.toContain('\n');

    system.cloud.control.addRole(managementId, {
      name: FUNCTION_ROLE,
      trustPolicy: JSON.stringify({
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: ['fc.aliyuncs.com'] },
          },
        ],
        Version: '1',
      }),
    });
    system.cloud.control.createMember({ name: 'forward-recovered' });
    const recovered = lastEvent(system);
    await output.waitFor(
      new RegExp(`^\\[eventbridge\\] CreateResourceAccount ${recovered.id} -> host-events$`),
    );
  });

  it('reports a failed delivery with the functions it reached and those it did not', async () => {
    const event = lastEvent(system);
    system.cloud.control.deleteRole(system.env.managementAccountId, FUNCTION_ROLE);
    system.cloud.control.advanceClock(2 * 3600);
    const error = await system.host.publishEvent(event).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(EventPublishError);
    expect((error as EventPublishError).delivered).toEqual([]);
    expect((error as EventPublishError).failures.map((f) => f.functionName)).toEqual([
      'host-events',
    ]);
  });
});

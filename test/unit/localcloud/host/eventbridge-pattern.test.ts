import { describe, expect, it } from 'vitest';
import { matchesEventPattern } from '../../../../localcloud/host/eventbridge-pattern';

const event = {
  specversion: '1.0',
  source: 'acs.resourcemanager',
  type: 'resourcemanager:ActionTrail:ApiCall',
  subject: 'acs:resourcemanager::1000:account/2000',
  data: {
    eventName: 'MoveAccount',
    sourceIpAddress: '10.1.2.3',
    tags: ['a', 'b'],
    retries: 2,
    errorCode: null,
  },
};

describe('EventBridge event patterns', () => {
  it('matches literal values, nested objects and lists', () => {
    expect(matchesEventPattern({ source: ['acs.resourcemanager'] }, event)).toBe(true);
    expect(matchesEventPattern({ source: ['acs.ecs'] }, event)).toBe(false);
    expect(
      matchesEventPattern({ data: { eventName: ['CreateResourceAccount', 'MoveAccount'] } }, event),
    ).toBe(true);
    expect(matchesEventPattern({ data: { eventName: ['DeleteAccount'] } }, event)).toBe(false);
    expect(matchesEventPattern({ data: { errorCode: [null] } }, event)).toBe(true);
  });

  it('needs every key of the pattern to match', () => {
    expect(
      matchesEventPattern({ source: ['acs.resourcemanager'], data: { eventName: ['X'] } }, event),
    ).toBe(false);
  });

  it('matches an array field when any element matches', () => {
    expect(matchesEventPattern({ data: { tags: ['b'] } }, event)).toBe(true);
    expect(matchesEventPattern({ data: { tags: ['c'] } }, event)).toBe(false);
  });

  it('supports prefix, suffix, anything-but, numeric, cidr, exists', () => {
    expect(matchesEventPattern({ type: [{ prefix: 'resourcemanager:' }] }, event)).toBe(true);
    expect(matchesEventPattern({ subject: [{ suffix: '/2000' }] }, event)).toBe(true);
    expect(matchesEventPattern({ source: [{ 'anything-but': 'acs.ecs' }] }, event)).toBe(true);
    expect(
      matchesEventPattern({ source: [{ 'anything-but': ['acs.resourcemanager'] }] }, event),
    ).toBe(false);
    expect(matchesEventPattern({ source: [{ 'anything-but': { prefix: 'acs.' } }] }, event)).toBe(
      false,
    );
    expect(
      matchesEventPattern({ data: { retries: [{ numeric: ['>', 0, '<=', 2] }] } }, event),
    ).toBe(true);
    expect(matchesEventPattern({ data: { retries: [{ numeric: ['>', 2] }] } }, event)).toBe(false);
    expect(
      matchesEventPattern({ data: { sourceIpAddress: [{ cidr: '10.1.0.0/16' }] } }, event),
    ).toBe(true);
    expect(
      matchesEventPattern({ data: { sourceIpAddress: [{ cidr: '10.2.0.0/16' }] } }, event),
    ).toBe(false);
    expect(matchesEventPattern({ data: { missing: [{ exists: false }] } }, event)).toBe(true);
    expect(matchesEventPattern({ data: { eventName: [{ exists: false }] } }, event)).toBe(false);
  });

  it('does not match a missing field with a literal', () => {
    expect(matchesEventPattern({ data: { missing: ['x'] } }, event)).toBe(false);
    expect(matchesEventPattern({ extra: { deep: ['x'] } }, event)).toBe(false);
  });

  it('lets everything through without a pattern', () => {
    expect(matchesEventPattern(undefined, event)).toBe(true);
  });
});

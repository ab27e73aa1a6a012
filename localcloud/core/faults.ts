// Fault injection rules: per service and action (or '*'), a kind and a rate. The server consults
// them before a request reaches its service.

import type { ServiceName } from './contracts';

export type FaultKind = 'latency' | 'throttle' | 'error5xx' | 'reset';

export interface FaultRule {
  id: number;
  service: ServiceName | '*';
  /** API action, or '*' for every action of the service. */
  action: string;
  kind: FaultKind;
  /** Probability 0..1 that a matching request gets the fault. */
  rate: number;
  /** For latency: added delay. */
  latencyMs?: number;
  /** For error5xx: 500 or 503 (default 503). */
  status?: number;
}

export type NewFaultRule = Omit<FaultRule, 'id'>;

const KINDS: readonly FaultKind[] = ['latency', 'throttle', 'error5xx', 'reset'];

export class FaultRuleError extends Error {
  override name = 'FaultRuleError';
}

export function validateFaultRule(input: unknown): NewFaultRule {
  if (typeof input !== 'object' || input === null)
    throw new FaultRuleError('a fault rule must be an object');
  const rule = input as Record<string, unknown>;
  const service = rule.service;
  if (typeof service !== 'string' || service === '') {
    throw new FaultRuleError(
      'service is required (sts, resourcemanager, ram, tablestore, sls, fc or *)',
    );
  }
  const action = rule.action ?? '*';
  if (typeof action !== 'string' || action === '')
    throw new FaultRuleError('action must be an action name or *');
  const kind = rule.kind;
  if (typeof kind !== 'string' || !KINDS.includes(kind as FaultKind)) {
    throw new FaultRuleError(`kind must be one of ${KINDS.join(', ')}`);
  }
  const rate = rule.rate ?? 1;
  if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1))
    throw new FaultRuleError('rate must be a number from 0 to 1');
  const latencyMs = rule.latencyMs;
  if (kind === 'latency' && (typeof latencyMs !== 'number' || latencyMs < 0)) {
    throw new FaultRuleError('a latency fault needs latencyMs >= 0');
  }
  const status = rule.status;
  if (status !== undefined && status !== 500 && status !== 503)
    throw new FaultRuleError('status must be 500 or 503');
  return {
    service: service as ServiceName,
    action,
    kind: kind as FaultKind,
    rate,
    ...(typeof latencyMs === 'number' ? { latencyMs } : {}),
    ...(status === undefined ? {} : { status }),
  };
}

export class FaultInjector {
  private rules: FaultRule[] = [];
  private nextId = 1;

  constructor(private readonly random: () => number = Math.random) {}

  add(input: NewFaultRule): FaultRule {
    const rule = { ...validateFaultRule(input), id: this.nextId++ };
    this.rules.push(rule);
    return rule;
  }

  clear(): void {
    this.rules = [];
  }

  list(): FaultRule[] {
    return [...this.rules];
  }

  /** The first matching rule that fires for this request, if any. */
  pick(service: ServiceName, action: string): FaultRule | undefined {
    for (const rule of this.rules) {
      if (rule.service !== '*' && rule.service !== service) continue;
      if (rule.action !== '*' && rule.action !== action) continue;
      if (rule.rate >= 1 || this.random() < rule.rate) return rule;
    }
    return undefined;
  }
}

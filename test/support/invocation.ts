import type { Invocation } from '../../shared/runtime/context';
import type { InvocationBindings } from '../../shared/runtime/http';
import { createLogger, type Logger } from '../../shared/runtime/logger';

export function testInvocation(overrides: Partial<Invocation> = {}): Invocation {
  return {
    requestId: 'req-0001',
    functionName: 'rdgov-api',
    region: 'cn-hangzhou',
    accountId: '1000000000000001',
    credentials: {
      accessKeyId: 'STS.testkey',
      accessKeySecret: 'test-secret',
      securityToken: 'CAIStesttokentesttokentesttoken',
    },
    ...overrides,
  };
}

/** A logger whose lines are kept for assertions. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    logger: createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line)) }),
  };
}

export function bindings(overrides: Partial<Invocation> = {}, logger?: Logger): InvocationBindings {
  return { invocation: testInvocation(overrides), logger: logger ?? capturingLogger().logger };
}

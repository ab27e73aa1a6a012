// Finding a template's Logstores in a member and region: default names tried one by one with
// what each attempt found (project missing, Logstore missing, found with its shards and TTL), and
// discovery filtered by project pattern, name filter and Logstore pattern, in name order.

import { describe, expect, it } from 'vitest';
import { CloudApiError } from '../../../shared/errors';
import { findLogstores } from '../../../shared/logs/discovery';
import type { LogTemplate } from '../../../shared/logs/model';
import { findTemplate } from '../../../shared/logs/templates';
import { InMemoryMemberLogs, logFailure } from '../../support/log-member-fakes';

const A = '2000000000000001';
const REGION = 'cn-hangzhou';

const template = (id: string): LogTemplate => {
  const found = findTemplate(id);
  if (!found) throw new Error(`no template ${id}`);
  return found;
};

const discovering = (rule: Partial<Extract<LogTemplate['logstores'], { kind: 'discovery' }>>) =>
  ({
    ...template('actiontrail'),
    logstores: {
      kind: 'discovery',
      nameContains: 'trail_',
      logstorePattern: '^trail_.+$',
      source: 'test',
      ...rule,
    },
  }) as LogTemplate;

describe('default names', () => {
  it('tries every default name in order and says what each found', async () => {
    const logs = new InMemoryMemberLogs(A, REGION)
      .add(`wafng-project-${A}-${REGION}`)
      .add(`wafnew-project-${A}-${REGION}`, [
        { name: 'wafnew-logstore', ttlDays: 7, shardCount: 2 },
      ]);
    const result = await findLogstores(logs, template('waf'), A, REGION);
    expect(result.found).toEqual([
      { project: `wafnew-project-${A}-${REGION}`, logstore: 'wafnew-logstore' },
    ]);
    expect(result.evidence).toEqual([
      `project waf-project-${A}-${REGION}: not found`,
      `project wafng-project-${A}-${REGION}: found; Logstore wafng-logstore: not found`,
      `project wafnew-project-${A}-${REGION}, Logstore wafnew-logstore: found (2 shards, TTL 7 days)`,
    ]);
    expect(logs.calls).toEqual([
      `getLogstore waf-project-${A}-${REGION}/waf-logstore`,
      `getLogstore wafng-project-${A}-${REGION}/wafng-logstore`,
      `getLogstore wafnew-project-${A}-${REGION}/wafnew-logstore`,
    ]);
  });

  it('finds several when several exist', async () => {
    const logs = new InMemoryMemberLogs(A, REGION)
      .add(`waf-project-${A}-${REGION}`, ['waf-logstore'])
      .add(`wafng-project-${A}-${REGION}`, ['wafng-logstore']);
    const result = await findLogstores(logs, template('waf'), A, REGION);
    expect(result.found.map((f) => f.logstore)).toEqual(['waf-logstore', 'wafng-logstore']);
    expect(result.evidence).toHaveLength(3);
  });

  it('lets any other failure through (it is not an absence)', async () => {
    const logs = new InMemoryMemberLogs(A, REGION);
    const denied = new CloudApiError(logFailure('GetLogStore', 'denied', 'Unauthorized'));
    logs.getLogstore = async () => {
      throw denied;
    };
    await expect(findLogstores(logs, template('sas-alerts'), A, REGION)).rejects.toBe(denied);
  });
});

describe('discovery', () => {
  it('lists every project, filters Logstores by the name filter and pattern, in name order', async () => {
    const logs = new InMemoryMemberLogs(A, REGION)
      .add('zeta', ['actiontrail_b', 'actiontrail_a', 'actiontrail_'])
      .add('alpha', ['my_actiontrail_x', 'actiontrail_main', 'other'])
      .add('empty');
    const result = await findLogstores(logs, template('actiontrail'), A, REGION);
    expect(result.found).toEqual([
      { project: 'alpha', logstore: 'actiontrail_main' },
      { project: 'zeta', logstore: 'actiontrail_a' },
      { project: 'zeta', logstore: 'actiontrail_b' },
    ]);
    expect(result.evidence).toEqual([
      `3 project(s) in ${REGION}; Logstores matching ^actiontrail_.+$: alpha/actiontrail_main, zeta/actiontrail_a, zeta/actiontrail_b`,
    ]);
    expect(logs.calls).toEqual([
      'listProjects',
      'listLogstores alpha actiontrail_',
      'listLogstores empty actiontrail_',
      'listLogstores zeta actiontrail_',
    ]);
  });

  it('reads only the projects matching the project pattern', async () => {
    const logs = new InMemoryMemberLogs(A, REGION)
      .add('trails-b', ['trail_2'])
      .add('other', ['trail_1'])
      .add('trails-a', ['trail_1']);
    const result = await findLogstores(
      logs,
      discovering({ projectPattern: '^trails-' }),
      A,
      REGION,
    );
    expect(result.found).toEqual([
      { project: 'trails-a', logstore: 'trail_1' },
      { project: 'trails-b', logstore: 'trail_2' },
    ]);
    expect(result.evidence[0]).toMatch(/^2 project\(s\) in cn-hangzhou;/);
    expect(logs.calls).not.toContain('listLogstores other trail_');
  });

  it('orders Logstores by name even when the service lists them otherwise', async () => {
    const logs = new InMemoryMemberLogs(A, REGION).add('p', ['trail_b', 'trail_a']);
    logs.listAllLogstores = async () => ['trail_b', 'trail_c', 'trail_a'];
    const result = await findLogstores(logs, discovering({}), A, REGION);
    expect(result.found.map((f) => f.logstore)).toEqual(['trail_a', 'trail_b', 'trail_c']);
  });

  it('says none when nothing matches', async () => {
    const logs = new InMemoryMemberLogs(A, REGION).add('p', ['unrelated']);
    const result = await findLogstores(logs, discovering({}), A, REGION);
    expect(result.found).toEqual([]);
    expect(result.evidence).toEqual([
      `1 project(s) in ${REGION}; Logstores matching ^trail_.+$: none`,
    ]);
  });
});

// Finding a template's Logstores in a member and region, live: each default name tried with
// GetLogStore, or discovery (ListProject, then ListLogStores filtered and matched by pattern).
// Planning uses it to know what to read (and to pick up new Logstores), diagnosis as step 1.

import type { LogstoreAddress, LogTemplate } from './model';
import { LogResourceMissing, type MemberLogs } from './ports';
import { resolveDefaultName } from './templates';

/** The template's Logstores as they exist now in the member and region (live). */
export async function findLogstores(
  logs: MemberLogs,
  template: LogTemplate,
  accountId: string,
  region: string,
): Promise<{ found: LogstoreAddress[]; evidence: string[] }> {
  const rule = template.logstores;
  const found: LogstoreAddress[] = [];
  const evidence: string[] = [];
  if (rule.kind === 'default-name') {
    for (const name of rule.names) {
      const address = resolveDefaultName(name, accountId, region);
      try {
        const info = await logs.getLogstore(address);
        found.push(address);
        evidence.push(
          `project ${address.project}, Logstore ${address.logstore}: found (${info.shardCount} shards, TTL ${info.ttlDays} days)`,
        );
      } catch (error) {
        if (!(error instanceof LogResourceMissing)) throw error;
        evidence.push(
          error.resource === 'project'
            ? `project ${address.project}: not found`
            : `project ${address.project}: found; Logstore ${address.logstore}: not found`,
        );
      }
    }
    return { found, evidence };
  }
  const projectPattern = rule.projectPattern ? new RegExp(rule.projectPattern) : undefined;
  const logstorePattern = new RegExp(rule.logstorePattern);
  const projects = (await logs.listProjects()).filter(
    (p) => !projectPattern || projectPattern.test(p),
  );
  for (const project of projects.sort()) {
    const names = await logs.listAllLogstores(project, rule.nameContains);
    for (const logstore of names.filter((n) => logstorePattern.test(n)).sort()) {
      found.push({ project, logstore });
    }
  }
  evidence.push(
    `${projects.length} project(s) in ${region}; Logstores matching ${rule.logstorePattern}: ${
      found.map((f) => `${f.project}/${f.logstore}`).join(', ') || 'none'
    }`,
  );
  return { found, evidence };
}

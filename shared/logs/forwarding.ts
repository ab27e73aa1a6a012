// What the puller forwards for one pulled batch, as pure rules: the batch id (the same for a
// repeat of the same batch, so a duplicate is recognisable downstream), the provenance tags, the
// central hash key (one source shard's logs go to one central shard, in order), and how the
// batch's groups are put together into PutLogs requests: groups sharing topic, source and tags
// are merged (one PutLogs costs about the same CPU whatever it carries), within the service's
// limits of 4,096 logs and 5 MB per log group.

import { createHash } from 'node:crypto';
import { type EncodedLogGroup, type LogTag, PROVENANCE_TAGS } from './model';

export interface ShardSource {
  dataSource: string;
  accountId: string;
  templateId: string;
  region: string;
  project: string;
  logstore: string;
  shardId: number;
}

/** The id of the batch pulled from `cursor`: a hash of the data source, shard and cursor. */
export function batchIdFor(shard: ShardSource, cursor: string): string {
  return createHash('sha256')
    .update(`${shard.dataSource}\n${shard.project}\n${shard.logstore}\n${shard.shardId}\n${cursor}`)
    .digest('hex')
    .slice(0, 32);
}

/** The provenance tags (the batch id is added by the sink with each batch). */
export function provenanceTags(shard: ShardSource): LogTag[] {
  return [
    { key: PROVENANCE_TAGS.ownerAccount, value: shard.accountId },
    { key: PROVENANCE_TAGS.template, value: shard.templateId },
    { key: PROVENANCE_TAGS.region, value: shard.region },
    { key: PROVENANCE_TAGS.sourceProject, value: shard.project },
    { key: PROVENANCE_TAGS.sourceLogstore, value: shard.logstore },
    { key: PROVENANCE_TAGS.sourceShard, value: String(shard.shardId) },
  ];
}

/** 32 hex digits: the central shard whose hash range holds it takes every batch of this shard. */
export function centralHashKey(shard: ShardSource): string {
  return createHash('md5')
    .update(
      `${shard.accountId}/${shard.region}/${shard.project}/${shard.logstore}/${shard.shardId}`,
    )
    .digest('hex');
}

export interface MergeLimits {
  /** The service refuses a log group of more than 4,096 logs. */
  maxLogs: number;
  /** Raw bytes of a merged group; the service refuses more than 5 MB (tags are added after). */
  maxBytes: number;
}

export const DEFAULT_MERGE_LIMITS: MergeLimits = { maxLogs: 4096, maxBytes: 4 * 1024 * 1024 };

function keyOf(group: EncodedLogGroup): string {
  return JSON.stringify([group.topic ?? null, group.source ?? null, group.tags]);
}

/**
 * The batch's groups as PutLogs requests: groups with the same topic, source and tags together,
 * in their order, each request within the limits (a single group over them goes alone, as it
 * came). Empty groups are left out: the service refuses a log group without logs.
 */
export function mergeForPut(
  groups: readonly EncodedLogGroup[],
  limits: MergeLimits = DEFAULT_MERGE_LIMITS,
): EncodedLogGroup[][] {
  const open = new Map<string, { groups: EncodedLogGroup[]; logs: number; bytes: number }>();
  const out: EncodedLogGroup[][] = [];
  for (const group of groups) {
    if (group.logCount === 0) continue;
    const key = keyOf(group);
    let current = open.get(key);
    if (
      current &&
      (current.logs + group.logCount > limits.maxLogs ||
        current.bytes + group.bytes.length > limits.maxBytes)
    ) {
      out.push(current.groups);
      current = undefined;
    }
    if (!current) {
      current = { groups: [], logs: 0, bytes: 0 };
      open.set(key, current);
    }
    current.groups.push(group);
    current.logs += group.logCount;
    current.bytes += group.bytes.length;
  }
  for (const current of open.values()) out.push(current.groups);
  return out;
}

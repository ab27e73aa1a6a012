// Which shards of a Logstore may be read now: parents before children.
//
// A shard that was split or merged turns readonly and keeps its data; its children (higher ids,
// hash ranges inside its own) take the new writes. For any hash key, the shards that held it over
// time are ordered by id, and the logs of each came before those of the next. So a shard may be
// read only once every lower-id shard whose hash range overlaps its own is finished (readonly and
// read to its end), or gone from the Logstore: that keeps every key's logs in order, and a child
// is never read ahead of a parent whose last logs are still unread.

import type { Shard } from './model';

function range(shard: Shard): { begin: bigint; end: bigint } {
  return {
    begin: BigInt(`0x${shard.inclusiveBeginKey || '0'}`),
    end: BigInt(`0x${shard.exclusiveEndKey || '0'}`),
  };
}

export function overlaps(a: Shard, b: Shard): boolean {
  const x = range(a);
  const y = range(b);
  return x.begin < y.end && y.begin < x.end;
}

export interface ShardReadiness {
  /** Not finished, every parent finished: read them now. */
  ready: Shard[];
  /** Not finished, a parent not yet: each with the parents it waits for. */
  waiting: Array<{ shard: Shard; parents: number[] }>;
  /** Finished (readonly, read to the end). */
  finished: Shard[];
}

export function shardReadiness(
  shards: readonly Shard[],
  finished: ReadonlySet<number>,
): ShardReadiness {
  const sorted = [...shards].sort((a, b) => a.shardId - b.shardId);
  const result: ShardReadiness = { ready: [], waiting: [], finished: [] };
  for (const shard of sorted) {
    if (finished.has(shard.shardId)) {
      result.finished.push(shard);
      continue;
    }
    const parents = sorted
      .filter((p) => p.shardId < shard.shardId && !finished.has(p.shardId) && overlaps(p, shard))
      .map((p) => p.shardId);
    if (parents.length === 0) result.ready.push(shard);
    else result.waiting.push({ shard, parents });
  }
  return result;
}

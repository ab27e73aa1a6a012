// Parents before children, at the edges: adjacent hash ranges do not overlap (either way round),
// shards listed out of id order are still read oldest first, and a shard whose keys the service
// left empty counts as the empty range at 0.

import { describe, expect, it } from 'vitest';
import type { Shard } from '../../../shared/logs/model';
import { overlaps, shardReadiness } from '../../../shared/logs/shards';

const ZERO = '00000000000000000000000000000000';
const HALF = '80000000000000000000000000000000';
const TOP = 'ffffffffffffffffffffffffffffffff';

const shard = (
  shardId: number,
  begin: string,
  end: string,
  status: Shard['status'] = 'readwrite',
): Shard => ({
  shardId,
  status,
  inclusiveBeginKey: begin,
  exclusiveEndKey: end,
  createTime: 0,
});

describe('shard ranges', () => {
  it('adjacent ranges do not overlap, in either order; nested ones do', () => {
    const low = shard(0, ZERO, HALF);
    const high = shard(1, HALF, TOP);
    expect(overlaps(low, high)).toBe(false);
    expect(overlaps(high, low)).toBe(false);
    expect(overlaps(shard(2, ZERO, TOP), high)).toBe(true);
    expect(overlaps(high, shard(2, ZERO, TOP))).toBe(true);
  });

  it('reads empty keys as 0', () => {
    const empty = shard(0, '', '');
    expect(overlaps(empty, shard(1, ZERO, TOP))).toBe(false);
    expect(overlaps(shard(2, '', HALF), shard(3, ZERO, '1'))).toBe(true);
    expect(
      shardReadiness([empty, shard(1, ZERO, TOP)], new Set()).ready.map((s) => s.shardId),
    ).toEqual([0, 1]);
  });

  it('orders shards by id whatever order they are listed in', () => {
    const readiness = shardReadiness(
      [shard(3, ZERO, TOP), shard(1, HALF, TOP, 'readonly'), shard(0, ZERO, HALF, 'readonly')],
      new Set(),
    );
    expect(readiness.ready.map((s) => s.shardId)).toEqual([0, 1]);
    expect(readiness.waiting).toEqual([{ shard: shard(3, ZERO, TOP), parents: [0, 1] }]);
    const finished = shardReadiness(
      [shard(1, HALF, TOP, 'readonly'), shard(0, ZERO, HALF, 'readonly')],
      new Set([1, 0]),
    );
    expect(finished.finished.map((s) => s.shardId)).toEqual([0, 1]);
  });
});

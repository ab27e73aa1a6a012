// The order Tablestore keeps rows in, for code that must tell where a key lies in a range without
// asking the server (a paging cursor's start key, checked against the query's range): primary
// key columns compared in turn; int64 as numbers, strings and binaries as bytes; INF_MIN before
// and INF_MAX after every value.

import { INF_MAX, INF_MIN, type RangeBoundValue, type RangeKey } from './types';

function rank(value: RangeBoundValue): number {
  return value === INF_MIN ? -1 : value === INF_MAX ? 1 : 0;
}

function compareValues(a: RangeBoundValue, b: RangeBoundValue): number {
  const ranks = rank(a) - rank(b);
  if (ranks !== 0 || rank(a) !== 0) return Math.sign(ranks);
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    throw new TypeError('cannot order an int64 against a string or binary key value');
  }
  const bytesA = typeof a === 'string' ? Buffer.from(a, 'utf8') : (a as Buffer);
  const bytesB = typeof b === 'string' ? Buffer.from(b, 'utf8') : (b as Buffer);
  return Math.sign(Buffer.compare(bytesA, bytesB));
}

/** -1, 0 or 1 as `a` sorts before, with or after `b` (keys of the same table). */
export function compareKeys(a: RangeKey, b: RangeKey): number {
  if (a.length !== b.length) throw new TypeError('keys of different lengths cannot be ordered');
  for (let i = 0; i < a.length; i++) {
    const order = compareValues(a[i]?.[1] ?? INF_MIN, b[i]?.[1] ?? INF_MIN);
    if (order !== 0) return order;
  }
  return 0;
}

/** Whether a range {start, end, direction} holds no key at all. */
export function isEmptyRange(range: {
  start: RangeKey;
  end: RangeKey;
  direction: 'forward' | 'backward';
}): boolean {
  const order = compareKeys(range.start, range.end);
  return range.direction === 'forward' ? order >= 0 : order <= 0;
}

/** Whether `key` lies in the range: from `start` (inclusive) towards `end` (exclusive). */
export function isInRange(
  key: RangeKey,
  range: { start: RangeKey; end: RangeKey; direction: 'forward' | 'backward' },
): boolean {
  return range.direction === 'forward'
    ? compareKeys(range.start, key) <= 0 && compareKeys(key, range.end) < 0
    : compareKeys(range.end, key) < 0 && compareKeys(key, range.start) <= 0;
}

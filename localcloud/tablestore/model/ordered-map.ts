// A sorted map from string keys to values: sorted chunks of at most CHUNK_MAX entries, found by
// binary search over each chunk's last key. Inserts and deletes move at most one chunk's entries,
// so 10^6 rows stay cheap, and range scans walk the chunks in order in either direction.

const CHUNK_MAX = 256;

interface Chunk<V> {
  keys: string[];
  values: V[];
}

function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class OrderedMap<V> {
  private chunks: Chunk<V>[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Index of the first chunk whose last key is >= key (chunks.length when none). */
  private chunkFor(key: string): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = this.chunks[mid] as Chunk<V>;
      if ((chunk.keys[chunk.keys.length - 1] as string) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get(key: string): V | undefined {
    const chunk = this.chunks[this.chunkFor(key)];
    if (chunk === undefined) return undefined;
    const i = lowerBound(chunk.keys, key);
    return chunk.keys[i] === key ? chunk.values[i] : undefined;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  set(key: string, value: V): void {
    if (this.chunks.length === 0) {
      this.chunks.push({ keys: [key], values: [value] });
      this.count = 1;
      return;
    }
    let ci = this.chunkFor(key);
    if (ci === this.chunks.length) ci -= 1;
    const chunk = this.chunks[ci] as Chunk<V>;
    const i = lowerBound(chunk.keys, key);
    if (chunk.keys[i] === key) {
      chunk.values[i] = value;
      return;
    }
    chunk.keys.splice(i, 0, key);
    chunk.values.splice(i, 0, value);
    this.count += 1;
    if (chunk.keys.length > CHUNK_MAX) {
      const half = chunk.keys.length >>> 1;
      const tail: Chunk<V> = { keys: chunk.keys.splice(half), values: chunk.values.splice(half) };
      this.chunks.splice(ci + 1, 0, tail);
    }
  }

  delete(key: string): V | undefined {
    const ci = this.chunkFor(key);
    const chunk = this.chunks[ci];
    if (chunk === undefined) return undefined;
    const i = lowerBound(chunk.keys, key);
    if (chunk.keys[i] !== key) return undefined;
    const value = chunk.values[i];
    chunk.keys.splice(i, 1);
    chunk.values.splice(i, 1);
    this.count -= 1;
    if (chunk.keys.length === 0) this.chunks.splice(ci, 1);
    return value;
  }

  clear(): void {
    this.chunks = [];
    this.count = 0;
  }

  /** Entries with lower <= key < upper, ascending. */
  *ascending(lower: string, upper: string): Generator<[string, V]> {
    let ci = this.chunkFor(lower);
    if (ci >= this.chunks.length) return;
    let i = lowerBound((this.chunks[ci] as Chunk<V>).keys, lower);
    for (; ci < this.chunks.length; ci++, i = 0) {
      const chunk = this.chunks[ci] as Chunk<V>;
      for (; i < chunk.keys.length; i++) {
        const key = chunk.keys[i] as string;
        if (key >= upper) return;
        yield [key, chunk.values[i] as V];
      }
    }
  }

  /** Entries with lower < key <= upper, descending. */
  *descending(upper: string, lower: string): Generator<[string, V]> {
    let ci = this.chunkFor(upper);
    if (ci >= this.chunks.length) ci = this.chunks.length - 1;
    if (ci < 0) return;
    let i = upperBound((this.chunks[ci] as Chunk<V>).keys, upper) - 1;
    for (; ci >= 0; ci--) {
      const chunk = this.chunks[ci] as Chunk<V>;
      if (i === Number.POSITIVE_INFINITY) i = chunk.keys.length - 1;
      for (; i >= 0; i--) {
        const key = chunk.keys[i] as string;
        if (key <= lower) return;
        yield [key, chunk.values[i] as V];
      }
      i = Number.POSITIVE_INFINITY;
    }
  }

  *entries(): Generator<[string, V]> {
    for (const chunk of this.chunks) {
      for (let i = 0; i < chunk.keys.length; i++)
        yield [chunk.keys[i] as string, chunk.values[i] as V];
    }
  }
}

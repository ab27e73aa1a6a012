import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OrderedMap } from '../../../../localcloud/tablestore/model/ordered-map';
import {
  compareStrings,
  encodeBoundKey,
  encodeRowKey,
  type PkInput,
  type PkValue,
} from '../../../../localcloud/tablestore/model/values';

type Op = { kind: 'set'; key: string; value: number } | { kind: 'delete'; key: string };

const key = fc.string({ unit: fc.constantFrom('a', 'b', 'c', '\u0000', '\u00ff'), maxLength: 4 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key, value: fc.integer() }),
  fc.record({ kind: fc.constant('delete' as const), key }),
);

describe('OrderedMap', () => {
  it('agrees with a sorted array model under random sets, deletes and range scans', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 3000 }), key, key, (ops, a, b) => {
        const map = new OrderedMap<number>();
        const model = new Map<string, number>();
        for (const step of ops) {
          if (step.kind === 'set') {
            map.set(step.key, step.value);
            model.set(step.key, step.value);
          } else {
            expect(map.delete(step.key)).toBe(model.get(step.key));
            model.delete(step.key);
          }
        }
        const sorted = [...model.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
        expect(map.size).toBe(model.size);
        expect([...map.entries()]).toEqual(sorted);
        const [lo, hi] = a < b ? [a, b] : [b, a];
        expect([...map.ascending(lo, hi)]).toEqual(sorted.filter(([k]) => k >= lo && k < hi));
        expect([...map.descending(hi, lo)]).toEqual(
          sorted.filter(([k]) => k > lo && k <= hi).reverse(),
        );
        for (const [k, v] of sorted) expect(map.get(k)).toBe(v);
      }),
      { numRuns: 60 },
    );
  });

  it('keeps order across many chunk splits', () => {
    const map = new OrderedMap<number>();
    const keys = Array.from({ length: 20000 }, (_, i) =>
      String((i * 7919) % 20000).padStart(6, '0'),
    );
    for (const k of keys) map.set(k, Number(k));
    const all = [...map.entries()].map(([k]) => k);
    expect(all).toEqual([...keys].sort());
    for (const k of keys.slice(0, 15000)) map.delete(k);
    expect([...map.entries()].map(([k]) => k)).toEqual(keys.slice(15000).sort());
  });
});

const pkValue = (type: 'int' | 'str' | 'bin'): fc.Arbitrary<PkValue> =>
  type === 'int'
    ? fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) => ({ t: 'int' as const, v }))
    : type === 'str'
      ? fc.string({ unit: 'binary', maxLength: 6 }).map((v) => ({ t: 'str' as const, v }))
      : fc.uint8Array({ maxLength: 6 }).map((v) => ({ t: 'bin' as const, v: Buffer.from(v) }));

function comparePk(a: readonly PkValue[], b: readonly PkValue[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as PkValue;
    const y = b[i] as PkValue;
    let order = 0;
    if (x.t === 'int' && y.t === 'int') order = x.v < y.v ? -1 : x.v > y.v ? 1 : 0;
    else if (x.t === 'str' && y.t === 'str') order = compareStrings(x.v, y.v);
    else if (x.t === 'bin' && y.t === 'bin') order = Buffer.compare(x.v, y.v);
    if (order !== 0) return order;
  }
  return 0;
}

const schema = fc.array(fc.constantFrom('int' as const, 'str' as const, 'bin' as const), {
  minLength: 1,
  maxLength: 4,
});

describe('row key encoding', () => {
  it('orders keys exactly as Tablestore orders primary keys (signed integers, bytewise strings)', () => {
    fc.assert(
      fc.property(
        schema.chain((types) =>
          fc.tuple(fc.tuple(...types.map(pkValue)), fc.tuple(...types.map(pkValue))),
        ),
        ([a, b]) => {
          const byKey = Math.sign(
            encodeRowKey(a) < encodeRowKey(b) ? -1 : encodeRowKey(a) > encodeRowKey(b) ? 1 : 0,
          );
          expect(byKey).toBe(Math.sign(comparePk(a, b)));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('places INF_MIN before and INF_MAX after every key with the same prefix', () => {
    fc.assert(
      fc.property(
        schema.chain((types) => fc.tuple(...types.map(pkValue))),
        fc.nat(),
        (pk, at) => {
          const i = at % pk.length;
          const key = encodeRowKey(pk);
          const prefix: PkInput[] = pk.slice(0, i);
          const min = encodeBoundKey([...prefix, { t: 'inf_min' }, ...pk.slice(i + 1)]);
          const max = encodeBoundKey([...prefix, { t: 'inf_max' }, ...pk.slice(i + 1)]);
          expect(min < key).toBe(true);
          expect(max > key).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

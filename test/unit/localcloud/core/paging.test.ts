import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeMarker,
  InvalidMarkerError,
  pageByMarker,
  pageByNumber,
} from '../../../../localcloud/core/paging';

describe('pageByNumber', () => {
  it('returns every item exactly once across pages, with the total', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 1, max: 100 }),
        (count, pageSize) => {
          const items = Array.from({ length: count }, (_, i) => i);
          const seen: number[] = [];
          for (let page = 1; ; page++) {
            const result = pageByNumber(items, page, pageSize);
            expect(result.totalCount).toBe(count);
            if (result.items.length === 0) break;
            expect(result.items.length).toBeLessThanOrEqual(pageSize);
            seen.push(...result.items);
          }
          expect(seen).toEqual(items);
        },
      ),
    );
  });
});

describe('pageByMarker', () => {
  it('walks sorted items with markers until not truncated', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 7 }),
        (names, max) => {
          const seen: string[] = [];
          let marker: string | undefined;
          for (;;) {
            const page = pageByMarker(names, (name) => name, marker, max);
            seen.push(...page.items);
            if (!page.isTruncated) {
              expect(page.marker).toBeUndefined();
              break;
            }
            marker = page.marker;
          }
          expect(seen).toEqual([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
        },
      ),
    );
  });

  it('stays correct when an item is removed between pages', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const first = pageByMarker(names, (n) => n, undefined, 2);
    expect(first.items).toEqual(['a', 'b']);
    const second = pageByMarker(['a', 'c', 'd', 'e'], (n) => n, first.marker, 2);
    expect(second.items).toEqual(['c', 'd']);
  });

  it('refuses a marker that is not one of its own', () => {
    expect(() => decodeMarker('not a marker!')).toThrow(InvalidMarkerError);
  });
});

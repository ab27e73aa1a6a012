// filteredPage: a filtered listing answers full pages, reads only what is missing (so the cursor
// is exact: every matching item once, in order, over all pages), and stops after its read limit
// with a cursor that goes on.

import { describe, expect, it } from 'vitest';
import {
  EVERY_ACCOUNT,
  filteredPage,
  type Page,
  type PageRequest,
} from '../../../shared/domain/paging';

/** A listing of 0..size-1 whose cursor is the next index, recording each read's request. */
function listing(size: number) {
  const reads: PageRequest[] = [];
  const read = async (request: PageRequest): Promise<Page<number>> => {
    reads.push(request);
    const from = request.cursor === undefined ? 0 : Number(request.cursor);
    const to = Math.min(size, from + request.limit);
    const items = Array.from({ length: to - from }, (_, i) => from + i);
    return to < size ? { items, nextCursor: String(to) } : { items };
  };
  return { read, reads };
}

const everyThird = (items: readonly number[]) => items.filter((n) => n % 3 === 0);

describe('EVERY_ACCOUNT', () => {
  it("admits every account's items and items of no account (an unscoped token)", () => {
    expect(EVERY_ACCOUNT('1234567890123456')).toBe(true);
    expect(EVERY_ACCOUNT(undefined)).toBe(true);
  });
});

describe('filteredPage', () => {
  it('fills the page, asking each read for only the items still missing', async () => {
    const { read, reads } = listing(100);
    const page = await filteredPage({ limit: 5 }, read, everyThird);
    expect(page).toEqual({ items: [0, 3, 6, 9, 12], nextCursor: '13' });
    expect(reads.map((r) => r.limit)).toEqual([5, 3, 2, 1, 1, 1]);
  });

  it('pages through every matching item exactly once, in order', async () => {
    const { read } = listing(200);
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await filteredPage({ limit: 7, cursor }, read, everyThird);
      expect(page.items.length === 7 || page.nextCursor === undefined).toBe(true);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(seen).toEqual(everyThird(Array.from({ length: 200 }, (_, i) => i)));
  });

  it('ends without a cursor when the listing ends, however short the page', async () => {
    const { read } = listing(10);
    expect(await filteredPage({ limit: 50 }, read, everyThird)).toEqual({ items: [0, 3, 6, 9] });
  });

  it('answers what it has, with a cursor that goes on, after its read limit', async () => {
    const { read, reads } = listing(1_000);
    const none = await filteredPage({ limit: 4, cursor: '1' }, read, () => [], 3);
    expect(reads).toHaveLength(3);
    expect(reads[0]).toEqual({ limit: 4, cursor: '1' });
    expect(none).toEqual({ items: [], nextCursor: '13' });
  });

  it('passes the first read the request as it is (no cursor unless given), and waits for an async filter', async () => {
    const { read, reads } = listing(30);
    const page = await filteredPage({ limit: 3 }, read, async (items) => items.slice(0, 1));
    expect(reads[0]).toStrictEqual({ limit: 3 });
    expect(page).toEqual({ items: [0, 3, 5], nextCursor: '6' });
  });
});

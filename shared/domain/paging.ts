// Paged listings: a page of items and an opaque cursor to the next one.

/** The most items one page may ask for. */
export const MAX_PAGE_LIMIT = 1_000;

export interface PageRequest {
  /** Most items to return (1 to MAX_PAGE_LIMIT). */
  limit: number;
  /** From a previous page's `nextCursor`. */
  cursor?: string | undefined;
}

/**
 * Whether a listing may answer an item of this account (the accounts a scoped token may see);
 * `undefined` is an item of no account.
 */
export type AccountFilter = (accountId: string | undefined) => boolean;

export const EVERY_ACCOUNT: AccountFilter = () => true;

export interface Page<T> {
  items: T[];
  /** Pass back to get the next page; absent on the last page. */
  nextCursor?: string;
}

/** Reads one filtered page makes at most before it answers with what it has (and a cursor). */
export const FILTERED_PAGE_MAX_READS = 10;

/**
 * A page of up to `request.limit` items that pass a filter the listing cannot apply itself (a
 * status computed from several rows, the accounts a scoped token may see): reads on from the
 * cursor until the page is full or the listing ends. Each read asks only for the items still
 * missing, so the last read's cursor is exactly where the next page starts, and no item is
 * skipped or repeated. After `maxReads` reads the page is answered as it is, with that cursor,
 * so a filter that matches rarely cannot hold a request for long: a page shorter than `limit`
 * with a `nextCursor` means more may follow.
 */
export async function filteredPage<S, T>(
  request: PageRequest,
  read: (request: PageRequest) => Promise<Page<S>>,
  keep: (items: readonly S[]) => Promise<T[]> | T[],
  maxReads = FILTERED_PAGE_MAX_READS,
): Promise<Page<T>> {
  const items: T[] = [];
  let cursor = request.cursor;
  for (let reads = 1; ; reads++) {
    const page = await read({
      limit: request.limit - items.length,
      ...(cursor === undefined ? {} : { cursor }),
    });
    items.push(...(await keep(page.items)));
    if (page.nextCursor === undefined) return { items };
    cursor = page.nextCursor;
    if (items.length >= request.limit || reads >= maxReads) return { items, nextCursor: cursor };
  }
}

// Paged listings: a page of items and an opaque cursor to the next one.

/** The most items one page may ask for. */
export const MAX_PAGE_LIMIT = 1_000;

export interface PageRequest {
  /** Most items to return (1 to MAX_PAGE_LIMIT). */
  limit: number;
  /** From a previous page's `nextCursor`. */
  cursor?: string | undefined;
}

export interface Page<T> {
  items: T[];
  /** Pass back to get the next page; absent on the last page. */
  nextCursor?: string;
}

// The two paging styles of POP APIs: PageNumber/PageSize (with TotalCount) and Marker/MaxItems
// (with IsTruncated and the next Marker). Pure.

export interface NumberedPage<T> {
  items: T[];
  pageNumber: number;
  pageSize: number;
  totalCount: number;
}

/** Page `pageNumber` (1-based) of `pageSize` items; past the end is an empty page. */
export function pageByNumber<T>(
  items: readonly T[],
  pageNumber: number,
  pageSize: number,
): NumberedPage<T> {
  const start = (pageNumber - 1) * pageSize;
  return {
    items: items.slice(start, start + pageSize),
    pageNumber,
    pageSize,
    totalCount: items.length,
  };
}

export interface MarkerPage<T> {
  items: T[];
  isTruncated: boolean;
  /** Present when truncated: pass it back as Marker for the next page. */
  marker?: string;
}

export class InvalidMarkerError extends Error {
  override name = 'InvalidMarkerError';
}

export function encodeMarker(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

export function decodeMarker(marker: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(marker))
    throw new InvalidMarkerError(`marker "${marker}" is not valid`);
  return Buffer.from(marker, 'base64url').toString('utf8');
}

/**
 * Items sorted by `keyOf`; the marker names the last key returned, so pages stay correct when
 * items are added or removed between calls.
 */
export function pageByMarker<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  marker: string | undefined,
  maxItems: number,
): MarkerPage<T> {
  const sorted = [...items].sort((a, b) => {
    const ka = keyOf(a);
    const kb = keyOf(b);
    if (ka === kb) return 0;
    return ka < kb ? -1 : 1;
  });
  const after = marker === undefined || marker === '' ? undefined : decodeMarker(marker);
  const remaining = after === undefined ? sorted : sorted.filter((item) => keyOf(item) > after);
  const page = remaining.slice(0, maxItems);
  const isTruncated = remaining.length > maxItems;
  const last = page[page.length - 1];
  return {
    items: page,
    isTruncated,
    ...(isTruncated && last !== undefined ? { marker: encodeMarker(keyOf(last)) } : {}),
  };
}

// Rows between the model and PlainBuffer: a stored row as the service encodes it in responses
// (and as the write-ahead log keeps it), and decoded PlainBuffer rows and values checked the way
// the service checks them before they reach the model.

import { invalid } from '../model/errors';
import type { Table } from '../model/rows';
import type { AnyValue, CellValue, Column, PkValue, Row } from '../model/values';
import { decodeRow, encodeRow, PlainBufferError, type PlainBufferRow } from './plainbuffer';

/** The row in PlainBuffer form; without columns, only its key. */
export function toPlainBufferRow(table: Table, row: Row, withColumns = true): PlainBufferRow {
  return {
    pk: row.pk.map((value, i) => ({ name: table.meta.primaryKey[i]?.name ?? '', value })),
    cells: withColumns
      ? row.columns.flatMap((column) =>
          column.cells.map((cell) => ({
            name: column.name,
            value: cell.value,
            ts: BigInt(cell.ts),
          })),
        )
      : [],
    deleteMarker: false,
  };
}

/** The encoded row, or an empty buffer when there is none (a read that found nothing). */
export function encodeRowOrEmpty(table: Table, row: Row | undefined, withColumns = true): Buffer {
  return row ? encodeRow(toPlainBufferRow(table, row, withColumns)) : Buffer.alloc(0);
}

/** A stored row, or its deletion (the delete marker), as PlainBuffer. */
export function encodeStoredRow(table: Table, pk: PkValue[], row: Row | null): Buffer {
  return encodeRow(
    row
      ? toPlainBufferRow(table, row)
      : { ...toPlainBufferRow(table, { pk, columns: [] }, false), deleteMarker: true },
  );
}

/** Inverse of encodeStoredRow: the key, and the row or null for a deletion. */
export function decodeStoredRow(bytes: Buffer): { pk: PkValue[]; row: Row | null } {
  const decoded = decodeRow(bytes);
  const pk = decoded.pk.map((cell) => cell.value as PkValue);
  if (decoded.deleteMarker) return { pk, row: null };
  const columns: Column[] = [];
  for (const cell of decoded.cells) {
    let column = columns.at(-1);
    if (!column || column.name !== cell.name) {
      column = { name: cell.name, cells: [] };
      columns.push(column);
    }
    column.cells.push({ ts: Number(cell.ts ?? 0n), value: cell.value as CellValue });
  }
  return { pk, row: { pk, columns } };
}

/** A request's PlainBuffer row; malformed bytes are the service's OTSParameterInvalid. */
export function decodeRequestRow(bytes: Uint8Array): PlainBufferRow {
  try {
    const row = decodeRow(Buffer.from(bytes));
    if (row.pk.length === 0) throw invalid('Cell data broken, PK is empty.');
    return row;
  } catch (error) {
    if (error instanceof PlainBufferError) throw invalid(error.message);
    throw error;
  }
}

/** Attribute cell of a decoded PlainBuffer value, refusing the key-only variant types. */
export function attributeValue(value: AnyValue): CellValue {
  if (value.t === 'inf_min' || value.t === 'inf_max' || value.t === 'auto_incr') {
    throw invalid(
      `${value.t === 'inf_min' ? 'INF_MIN' : value.t === 'inf_max' ? 'INF_MAX' : 'AUTO_INCREMENT'} is an invalid type for the attribute column.`,
    );
  }
  return value;
}

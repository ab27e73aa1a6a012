// Column filters and column conditions as the model evaluates them on a row (the wire decodes
// them from the filter protobuf in wire/filter-codec.ts).

import { type Cell, type CellValue, type Column, compareCellValues } from './values';

export type Comparator =
  | 'EQUAL'
  | 'NOT_EQUAL'
  | 'GREATER_THAN'
  | 'GREATER_EQUAL'
  | 'LESS_THAN'
  | 'LESS_EQUAL';

export type ColumnFilter =
  | {
      kind: 'single';
      column: string;
      comparator: Comparator;
      value: CellValue;
      passIfMissing: boolean;
      latestVersionOnly: boolean;
    }
  | { kind: 'composite'; combinator: 'NOT' | 'AND' | 'OR'; filters: ColumnFilter[] }
  | { kind: 'pagination'; offset: number; limit: number };

function compare(comparator: Comparator, cell: CellValue, value: CellValue): boolean {
  const order = compareCellValues(cell, value);
  if (order === undefined) return false;
  switch (comparator) {
    case 'EQUAL':
      return order === 0;
    case 'NOT_EQUAL':
      return order !== 0;
    case 'GREATER_THAN':
      return order > 0;
    case 'GREATER_EQUAL':
      return order >= 0;
    case 'LESS_THAN':
      return order < 0;
    case 'LESS_EQUAL':
      return order <= 0;
  }
}

/** Evaluates a value filter on the columns as read (column list sorted by name, cells newest first). */
export function matchesFilter(filter: ColumnFilter, columns: readonly Column[]): boolean {
  switch (filter.kind) {
    case 'pagination':
      return true;
    case 'composite':
      if (filter.combinator === 'NOT')
        return !matchesFilter(filter.filters[0] as ColumnFilter, columns);
      if (filter.combinator === 'AND')
        return filter.filters.every((sub) => matchesFilter(sub, columns));
      return filter.filters.some((sub) => matchesFilter(sub, columns));
    case 'single': {
      const column = columns.find((candidate) => candidate.name === filter.column);
      if (column === undefined || column.cells.length === 0) return filter.passIfMissing;
      const cells: readonly Cell[] = filter.latestVersionOnly
        ? column.cells.slice(0, 1)
        : column.cells;
      return cells.some((cell) => compare(filter.comparator, cell.value, filter.value));
    }
  }
}

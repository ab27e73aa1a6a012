// CSV as every download of the API writes it: RFC 4180 (fields holding a comma, quote or line
// break are quoted, quotes doubled), lines ending CRLF, and cells a spreadsheet would run as a
// formula (starting with = + - @ tab or CR) prefixed with a quote, so a value taken from a log or
// a cloud API can never execute in the reader's spreadsheet.

/** One cell. */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One line of cells, with its CRLF. */
export function csvLine(values: readonly string[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

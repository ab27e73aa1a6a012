// The `tablestore` package ships no types. It is typed as unknown here on purpose: sdk.ts, the
// one module that imports it, narrows it to the few members it uses (see `Sdk` there).
declare module 'tablestore' {
  const TableStore: unknown;
  export default TableStore;
}

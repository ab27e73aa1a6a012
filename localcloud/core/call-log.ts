// The log of every call localcloud answered, newest last, bounded so a long `npm start` does not
// grow without limit.

import type { CallRecord, ServiceName } from './contracts';

export interface CallFilter {
  service?: ServiceName | string;
  action?: string;
  /** Only records with seq greater than this. */
  since?: number;
}

export class CallLog {
  private records: CallRecord[] = [];
  private seq = 0;

  constructor(private readonly capacity = 20_000) {}

  record(entry: Omit<CallRecord, 'seq'>): CallRecord {
    const record = { seq: ++this.seq, ...entry };
    this.records.push(record);
    // Trimmed in steps of a quarter of the capacity: one copy per capacity/4 calls, not per call.
    if (this.records.length >= this.capacity * 1.25)
      this.records.splice(0, this.records.length - this.capacity);
    return record;
  }

  query(filter: CallFilter = {}): CallRecord[] {
    return this.records.filter(
      (record) =>
        (filter.service === undefined || record.service === filter.service) &&
        (filter.action === undefined || record.action === filter.action) &&
        (filter.since === undefined || record.seq > filter.since),
    );
  }

  clear(): void {
    this.records = [];
  }

  get lastSeq(): number {
    return this.seq;
  }
}

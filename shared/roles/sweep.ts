// The sweep: every managed member's roles, checked by workers that FC runs asynchronously, one
// chunk of members each, so a sweep of thousands of members fits in function timeouts.

import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { FanOut } from '../domain/fan-out';
import { mapWithConcurrency } from '../runtime/concurrency';
import type { ManagedMemberReader } from './ports';

/** A multiple of the members a worker checks at once (8): no last round half empty. */
export const DEFAULT_CHUNK_SIZE = 48;

export const sweepChunkSchema = z.strictObject({
  sweepId: z.string().min(1),
  chunk: z.number().int().min(0),
  chunks: z.number().int().min(1),
  accountIds: z
    .array(z.string().regex(/^\d{1,32}$/))
    .min(1)
    .max(500),
  repair: z.boolean().optional(),
});
export type SweepChunk = z.infer<typeof sweepChunkSchema>;

/** Splits members into chunks of at most `size`, in account order. */
export function chunkMembers(accountIds: readonly string[], size: number): string[][] {
  const sorted = [...accountIds].sort();
  const chunks: string[][] = [];
  for (let i = 0; i < sorted.length; i += size) chunks.push(sorted.slice(i, i + size));
  return chunks;
}

export interface SweepStarted {
  sweepId: string;
  members: number;
  chunks: number;
  /** Chunks FC accepted; a chunk it refused is listed in failed and left to the next sweep. */
  invoked: number;
  failed: Array<{ chunk: number; reason: string }>;
}

export async function startSweep(
  deps: {
    store: { members: Pick<ManagedMemberReader, 'list'> };
    fanOut: FanOut;
    workerFunction: string;
  },
  options: { chunkSize?: number; repair?: boolean } = {},
): Promise<SweepStarted> {
  const members = await deps.store.members.list();
  const chunks = chunkMembers(
    members.map((m) => m.accountId),
    options.chunkSize ?? DEFAULT_CHUNK_SIZE,
  );
  const sweepId = randomUUID();
  const failed: SweepStarted['failed'] = [];
  let invoked = 0;
  // A few at a time: InvokeFunction only queues the work, and FC runs the chunks as it can.
  await mapWithConcurrency(chunks, 4, async (accountIds, chunk) => {
    const payload: SweepChunk = {
      sweepId,
      chunk,
      chunks: chunks.length,
      accountIds,
      ...(options.repair !== undefined ? { repair: options.repair } : {}),
    };
    try {
      await deps.fanOut.invokeAsync(deps.workerFunction, payload);
      invoked++;
    } catch (error) {
      failed.push({ chunk, reason: error instanceof Error ? error.message : String(error) });
    }
  });
  failed.sort((a, b) => a.chunk - b.chunk);
  return { sweepId, members: members.length, chunks: chunks.length, invoked, failed };
}

// The sweep: every managed member's roles, checked by workers that FC runs asynchronously, one
// chunk of members each, so a sweep of thousands of members fits in function timeouts.

import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Store } from '../store';
import type { FanOut } from './ports';

export const DEFAULT_CHUNK_SIZE = 50;

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
  deps: { store: Pick<Store, 'members'>; fanOut: FanOut; workerFunction: string },
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
  // In order, a few at a time: InvokeFunction is cheap and FC queues the work.
  for (let i = 0; i < chunks.length; i++) {
    const payload: SweepChunk = {
      sweepId,
      chunk: i,
      chunks: chunks.length,
      accountIds: chunks[i] ?? [],
      ...(options.repair !== undefined ? { repair: options.repair } : {}),
    };
    try {
      await deps.fanOut.invokeAsync(deps.workerFunction, payload);
      invoked++;
    } catch (error) {
      failed.push({ chunk: i, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return { sweepId, members: members.length, chunks: chunks.length, invoked, failed };
}

// The key that signs paging cursors (shared/domain/cursor.ts), kept in the store's `keys` table.
//
// Why there: a Function Compute environment variable is shown to anyone who may read the
// function's configuration (console, GetFunction), and a key derived from the function role's
// credentials would change whenever FC rotates them. A random key made once per deployment and
// kept in Tablestore is read only by principals allowed to read the instance's rows, who can read
// the data the cursors point into anyway. `npm run setup:tables` (s.yaml's post-deploy action)
// makes it; a function that finds none makes it itself, so the first paged request of a
// deployment set up another way still works. Deleting the row rotates the key: processes started
// afterwards make a new one, and every cursor issued before it is refused (400 InvalidCursor).
//
// The key's bytes never leave this module except to the codec: no log line, error or answer
// carries them.

import { randomBytes } from 'node:crypto';
import type { TablestoreClient } from '../cloud/tablestore';
import { type Clock, systemClock } from '../domain/clock';
import { conditionalWrite } from './conditional-write';
import type { StoreTables } from './tables';

export const CURSOR_SIGNING_KEY = 'cursor-signing';
const KEY_BYTES = 32;

/**
 * The key named `keyName`, made (32 random bytes) if the table holds none. Concurrent callers all
 * get the one key that was written first.
 */
export async function ensureSigningKey(
  client: TablestoreClient,
  tables: Pick<StoreTables, 'keys'>,
  keyName: string = CURSOR_SIGNING_KEY,
  clock: Clock = systemClock,
): Promise<{ key: Uint8Array; created: boolean }> {
  const table = tables.keys;
  const read = async () => {
    const row = await client.getRow(table.name, table.key({ keyName }));
    return row ? Buffer.from(table.decode(row).secret, 'base64') : undefined;
  };
  const existing = await read();
  if (existing) return { key: existing, created: false };
  const key = randomBytes(KEY_BYTES);
  const { primaryKey, columns } = table.encode({
    keyName,
    secret: key.toString('base64'),
    createdAt: BigInt(clock.now()),
  });
  const written = await conditionalWrite(
    client.putRow(table.name, primaryKey, columns, { condition: { row: 'expect-not-exist' } }),
  );
  if (written) return { key, created: true };
  // Another process made it first: use theirs.
  const theirs = await read();
  if (!theirs) throw new Error(`${table.name}: the ${keyName} key was written and then removed`);
  return { key: theirs, created: false };
}

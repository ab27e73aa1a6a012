// Serves the Tablestore emulator with a data directory on 127.0.0.1:0 and prints
// {"port":N} once it listens; the durability test kills it with SIGKILL and starts it again.
// Usage: tsx test/integration/tablestore/serve.ts <dataDir> [compactAfterBytes]

import { createTablestoreService } from '../../../localcloud/tablestore';
import { startHarness, TestClock } from './harness';

const [dataDir, compactAfter] = process.argv.slice(2);
if (!dataDir) {
  console.error('usage: serve.ts <dataDir> [compactAfterBytes]');
  process.exit(2);
}
const service = createTablestoreService({
  dataDir,
  clock: new TestClock(),
  ...(compactAfter ? { compactAfterBytes: Number(compactAfter) } : {}),
});
const harness = await startHarness({ service });
process.stdout.write(`${JSON.stringify({ port: harness.port })}\n`);
process.on('SIGTERM', () => {
  harness.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});

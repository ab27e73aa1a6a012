// The SDK's connect timeout is also its idle timeout until an answer starts (httpx applies it as
// the socket timeout of the whole request): an answer slower than it to begin fails as
// ConnectTimeout on an open connection. connectTimeoutMs is how a caller whose service is slow
// to start answering (localcloud serving several large pulls in turn) gives it more time.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogService } from '../../../../shared/cloud/sls/client';
import { CloudApiError } from '../../../../shared/errors';

const ANSWER_AFTER_MS = 400;
let server: Server;
let port: number;

beforeAll(async () => {
  // Answers ListShards (an empty shard list) only after a pause, as a busy service would.
  server = createServer((_req, res) => {
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-log-requestid': 'r-1' });
      res.end('[]');
    }, ANSWER_AFTER_MS);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const service = (connectTimeoutMs: number) =>
  createLogService({
    endpoint: `cn-hangzhou.log.aliyuncs.com@127.0.0.1:${port}`,
    protocol: 'http',
    region: 'cn-hangzhou',
    credentials: { accessKeyId: 'AKID', accessKeySecret: 'secret' },
    accountId: '1000000000000001',
    connectTimeoutMs,
    readTimeoutMs: 5_000,
    retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
  });

const address = { project: 'p', logstore: 'l' };

it('an answer slower to start than the connect timeout fails as a network failure', async () => {
  const failure = await service(100)
    .listShards(address)
    .then(
      () => undefined,
      (error: unknown) => error,
    );
  expect(failure).toBeInstanceOf(CloudApiError);
  expect((failure as CloudApiError).code).toBe('CloudUnavailable');
  expect((failure as CloudApiError).message).toContain('ConnectTimeout');
});

it('a longer connect timeout waits for the same answer', async () => {
  await expect(service(3_000).listShards(address)).resolves.toEqual([]);
});

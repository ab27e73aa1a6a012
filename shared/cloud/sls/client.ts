// One account's Simple Log Service in one region, over the official SDK (@alicloud/sls20201230):
// the ports of shared/logs (LogstoreDiscovery, LogstoreAdministration, LogSource, LogSink).
//
// What 5.9.0 gets wrong and how this routes around it (README "Dependencies"):
// - The typed pullLogs drops the project from the host and parses protobuf as JSON; the typed
//   putLogs throws on its protobuf body. Both go through `client.execute()` with our own
//   parameters (hostMap project, binary bodies), keeping the SDK's signing (v1, or v4).
// - Compression is the project's (compression.ts): PutLogs bodies are compressed here and sent
//   with x-log-compresstype + x-log-bodyrawsize, which the SDK then sends as they are; PullLogs
//   bodies are taken raw from the SDK's gateway (its own path would decompress through native
//   lz4-napi and copy the body three times) and decompressed here, whatever the service chose.
//
// Failures: the one SdkFailure classification of shared/cloud/openapi.ts (SLS's quota codes are
// throttling there), retried with the one retry policy while transient. InvalidCursor and the
// *NotExist codes become their own types (LogCursorInvalid, LogResourceMissing: a caller reacts).
// PutLogs is not idempotent: it is retried all the same, at least once, and a duplicate is
// recognisable downstream by its batch id tag (BATCH_ID_TAG); the outcome says when one may exist.

import { $OpenApiUtil } from '@alicloud/openapi-core';
import * as Sls from '@alicloud/sls20201230';
import type { CloudProtocol } from '../../config';
import { CloudApiError } from '../../errors';
import {
  BATCH_ID_TAG,
  type CursorPosition,
  type EncodedLogGroup,
  type LogGroup,
  type LogstoreAddress,
  type LogstoreInfo,
  type LogTag,
  type ProjectInfo,
  type PulledLogs,
  type PutOutcome,
  type Shard,
} from '../../logs/model';
import {
  type LogBatch,
  LogCursorInvalid,
  LogResourceMissing,
  type LogSink,
  type LogSource,
  type LogstoreAdministration,
  type LogstoreDiscovery,
  type MissingLogResource,
  ProjectOwnedElsewhere,
} from '../../logs/ports';
import type { CloudCredentials } from '../../runtime/context';
import {
  createOpenApiClient,
  describeFailure,
  type RetryOptions,
  readSdkFailure,
  type SdkFailure,
  withRetry,
} from '../openapi';
import {
  appendLogTags,
  decodeLogGroup,
  encodeLogGroup,
  mergeLogGroups,
  scanLogGroupList,
} from './codec';
import { compressBody, decompressBody } from './compression';

type SlsClient = Sls.default;
type Gateway = SlsClient['_spi'];
type RuntimeOptions = Parameters<SlsClient['execute']>[2];

/** A compression both the service and the adapter read and write. */
export type SlsWireCompression = 'lz4' | 'deflate';

export interface LogServiceOptions extends RetryOptions {
  /** The region's endpoint (endpoint.ts: slsEndpointFor). */
  endpoint: string;
  protocol: CloudProtocol;
  region: string;
  credentials: CloudCredentials;
  /** The account the credentials belong to, for error messages. */
  accountId: string;
  /**
   * How PutLogs bodies are compressed. Default deflate (level 1): zlib is native in Node, costs
   * less CPU than the TypeScript lz4 and compresses SLS bodies more (README, "Dependencies").
   */
  putCompression?: SlsWireCompression;
  /**
   * What PullLogs asks for. Default lz4, the response compression SLS documents for PullLogs.
   * Whatever the service answers (lz4, deflate, gzip, none) is read.
   */
  pullCompression?: SlsWireCompression;
  /** Default v1 (the SDK's); v4 signs SLS4-HMAC-SHA256 with the region. */
  signatureVersion?: 'v1' | 'v4';
  readTimeoutMs?: number;
  /**
   * The SDK's connect timeout (default 5 s). Its HTTP layer (httpx) also applies it as the
   * socket's idle timeout until the answer starts, so an answer slower than this to begin fails
   * as `ConnectTimeout` even on an open connection: raise it with readTimeoutMs where answers
   * are slow to start (a local stand-in serving several large pulls one after another).
   */
  connectTimeoutMs?: number;
  /** Logstore names per ListLogStores page in listAllLogstores (1-500, default 500). */
  listPageSize?: number;
}

export type LogService = LogstoreDiscovery & LogstoreAdministration & LogSource & LogSink;

const API_VERSION = '2020-12-30';
const NOT_EXIST: Record<string, MissingLogResource> = {
  ProjectNotExist: 'project',
  LogStoreNotExist: 'logstore',
  ShardNotExist: 'shard',
};
/** Network failures that happen before a request is sent: it cannot have been applied. */
const NOT_SENT = /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)$/;

/**
 * The SDK's gateway, except that a successful PullLogs body is handed over as the raw bytes the
 * service sent (still compressed): signing, errors and every other response stay the SDK's.
 */
function rawPullBodies(gateway: Gateway): Gateway {
  return {
    modifyConfiguration: (context, attributes) => gateway.modifyConfiguration(context, attributes),
    modifyRequest: (context, attributes) => gateway.modifyRequest(context, attributes),
    async modifyResponse(context, attributes) {
      const { request, response } = context;
      const status = response.statusCode ?? 0;
      if (request.action !== 'PullLogs' || status < 200 || status >= 300 || !response.body) {
        return gateway.modifyResponse(context, attributes);
      }
      const chunks: Buffer[] = [];
      let length = 0;
      for await (const chunk of response.body) {
        const bytes = chunk as Buffer;
        chunks.push(bytes);
        length += bytes.length;
      }
      response.deserializedBody = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length);
    },
  };
}

function header(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return typeof value === 'string' ? value : Array.isArray(value) ? String(value[0]) : undefined;
}

function hintFor(region: string, accountId: string) {
  return (failure: SdkFailure, kind: string): string | undefined => {
    if (failure.code === 'ProjectNotExist') {
      return `The project is not in ${region} of account ${accountId}: the product's log service may not be enabled there.`;
    }
    if (kind === 'denied') {
      return `A project answers only its owner's identities: use credentials of account ${accountId} (its access role), allowed this call's log: action on the project.`;
    }
    if (kind === 'throttled') {
      return 'The shard or project is over its quota; retried with backoff. Lasting throttling calls for more shards.';
    }
    return undefined;
  };
}

/** A batch's group as LogGroup bytes, the given tags added. */
function batchBytes(group: LogBatch['group'], tags: LogTag[]): Buffer {
  if (Array.isArray(group)) return appendLogTags(mergeLogGroups(group), tags);
  const single = group as EncodedLogGroup | LogGroup;
  if ('bytes' in single) return appendLogTags(single.bytes, tags);
  return encodeLogGroup({ ...single, tags: [...single.tags, ...tags] });
}

/** Creates the ports over one account's Log Service in one region. */
export function createLogService(options: LogServiceOptions): LogService {
  const client = createOpenApiClient(
    Sls.default,
    { endpoint: options.endpoint, protocol: options.protocol },
    options.credentials,
    {
      regionId: options.region,
      ...(options.signatureVersion ? { signatureVersion: options.signatureVersion } : {}),
      ...(options.readTimeoutMs ? { readTimeoutMs: options.readTimeoutMs } : {}),
      ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    },
  );
  client._spi = rawPullBodies(client._spi);
  const putCompression = options.putCompression ?? 'deflate';
  const pullCompression = options.pullCompression ?? 'lz4';
  // The client reads only the fields it finds set; none are needed.
  const runtime = {} as RuntimeOptions;
  const hint = hintFor(options.region, options.accountId);

  function failed(api: string, where: string, error: unknown): CloudApiError {
    if (error instanceof CloudApiError) return error;
    const described = describeFailure('SLS', api, options.accountId, error, hint);
    const failure = { ...described, cloudMessage: `${where}: ${described.cloudMessage}` };
    const missing = NOT_EXIST[failure.cloudCode];
    if (missing) return new LogResourceMissing(missing, failure, error);
    if (failure.cloudCode === 'InvalidCursor') return new LogCursorInvalid(failure, error);
    return new CloudApiError(failure, error);
  }

  /** A call retried while its failure is transient (PutLogs' duplicates: see putGroup). */
  async function call<T>(api: string, where: string, send: () => Promise<T>): Promise<T> {
    try {
      return await withRetry(send, options);
    } catch (error) {
      throw failed(api, where, error);
    }
  }

  function bodyFailure(api: string, where: string, error: unknown): CloudApiError {
    return new CloudApiError({
      service: 'SLS',
      api,
      accountId: options.accountId,
      kind: 'failed',
      cloudCode: 'InvalidResponseBody',
      cloudMessage: `${where}: ${(error as Error).message}`,
    });
  }

  const logstorePath = (address: LogstoreAddress) =>
    `/logstores/${encodeURIComponent(address.logstore)}`;
  const describe = (address: LogstoreAddress) =>
    `project ${address.project}, Logstore ${address.logstore}`;

  async function pullRange(
    address: LogstoreAddress,
    shardId: number,
    query: Record<string, string>,
  ): Promise<PulledLogs> {
    const where = `${describe(address)}, shard ${shardId}`;
    const response = await call('PullLogs', where, () =>
      client.execute(
        new $OpenApiUtil.Params({
          action: 'PullLogs',
          version: API_VERSION,
          protocol: options.protocol.toUpperCase(),
          pathname: `${logstorePath(address)}/shards/${shardId}`,
          method: 'GET',
          authType: 'AK',
          style: 'ROA',
          reqBodyType: 'none',
          bodyType: 'binary',
        }),
        new $OpenApiUtil.OpenApiRequest({
          hostMap: { project: address.project },
          // Capitalised as the gateway looks for it: it then leaves Accept-Encoding alone.
          headers: { accept: 'application/x-protobuf', 'Accept-Encoding': pullCompression },
          query,
        }),
        runtime,
      ),
    );
    const headers = response.headers as Record<string, unknown> | undefined;
    const nextCursor = header(headers, 'x-log-cursor');
    if (nextCursor === undefined) {
      throw bodyFailure('PullLogs', where, new Error('the answer has no x-log-cursor'));
    }
    const sizeText = header(headers, 'x-log-bodyrawsize');
    const body = Buffer.isBuffer(response.body) ? response.body : Buffer.alloc(0);
    try {
      const raw = decompressBody(
        header(headers, 'x-log-compresstype'),
        body,
        sizeText === undefined ? undefined : Number(sizeText),
      );
      const groups = scanLogGroupList(raw);
      let logCount = 0;
      for (const group of groups) logCount += group.logCount;
      return { groups, nextCursor, logCount, rawBytes: raw.length };
    } catch (error) {
      throw bodyFailure('PullLogs', where, error);
    }
  }

  async function putGroup(address: LogstoreAddress, batch: LogBatch): Promise<PutOutcome> {
    const where = describe(address);
    const tags: LogTag[] = [...(batch.tags ?? []), { key: BATCH_ID_TAG, value: batch.batchId }];
    const raw = batchBytes(batch.group, tags);
    const body = compressBody(putCompression, raw);
    const route = batch.hashKey === undefined ? 'lb' : 'route';
    let attempts = 0;
    let maybeDuplicated = false;
    await call('PutLogs', where, async () => {
      attempts++;
      try {
        return await client.execute(
          new $OpenApiUtil.Params({
            action: 'PutLogs',
            version: API_VERSION,
            protocol: options.protocol.toUpperCase(),
            pathname: `${logstorePath(address)}/shards/${route}`,
            method: 'POST',
            authType: 'AK',
            style: 'ROA',
            reqBodyType: 'binary',
            bodyType: 'none',
          }),
          new $OpenApiUtil.OpenApiRequest({
            hostMap: { project: address.project },
            headers: {
              // The SDK sets no Content-Type for a binary body; the service requires one.
              'content-type': 'application/x-protobuf',
              'x-log-compresstype': putCompression,
              'x-log-bodyrawsize': String(raw.length),
            },
            ...(batch.hashKey === undefined ? {} : { query: { key: batch.hashKey } }),
            body,
          }),
          runtime,
        );
      } catch (error) {
        // Refused (4xx, quotas) or never sent: not applied. No answer or a 5xx: maybe applied.
        const failure = readSdkFailure(error);
        if (failure.network ? !NOT_SENT.test(failure.code) : (failure.httpStatus ?? 0) >= 500) {
          maybeDuplicated = true;
        }
        throw error;
      }
    });
    return { attempts, maybeDuplicated };
  }

  return {
    async listProjects() {
      const names: string[] = [];
      for (;;) {
        const response = await call('ListProject', `region ${options.region}`, () =>
          client.listProject(
            new Sls.ListProjectRequest({ offset: names.length, size: options.listPageSize ?? 500 }),
          ),
        );
        const page = (response.body?.projects ?? []).map((p) => p.projectName ?? '');
        names.push(...page.filter((name) => name !== ''));
        if (page.length === 0 || names.length >= (response.body?.total ?? 0)) return names;
      }
    },

    async createProject(project, description) {
      try {
        await call('CreateProject', `project ${project}`, () =>
          client.createProject(new Sls.CreateProjectRequest({ projectName: project, description })),
        );
        return 'created';
      } catch (error) {
        if (
          !(error instanceof CloudApiError) ||
          error.failure.cloudCode !== 'ProjectAlreadyExist'
        ) {
          throw error;
        }
      }
      // Project names are unique in a region, and a project answers only its owner's identities:
      // readable, it is this account's.
      const readable = await this.getProject(project).then(
        () => true,
        (error: unknown) => {
          if (error instanceof CloudApiError && error.failure.kind === 'denied') return false;
          throw error;
        },
      );
      if (readable) return 'exists';
      throw new ProjectOwnedElsewhere({
        service: 'SLS',
        api: 'CreateProject',
        accountId: options.accountId,
        kind: 'rejected',
        cloudCode: 'ProjectAlreadyExist',
        cloudMessage: `project ${project} exists in ${options.region} and belongs to another account`,
        hint: 'Project names are unique in a region: choose another LOG_CENTRAL_PROJECT.',
      });
    },

    async getProject(project) {
      const response = await call('GetProject', `project ${project}`, () =>
        client.getProject(project),
      );
      const body = response.body;
      const info: ProjectInfo = {
        name: body?.projectName ?? project,
        region: body?.region ?? options.region,
        owner: body?.owner ?? '',
        description: body?.description ?? '',
        status: body?.status ?? '',
      };
      return info;
    },

    async listLogstores(project, page = {}) {
      const response = await call('ListLogStores', `project ${project}`, () =>
        client.listLogStores(
          project,
          new Sls.ListLogStoresRequest({
            ...(page.nameContains ? { logstoreName: page.nameContains } : {}),
            offset: page.offset ?? 0,
            size: page.size ?? 500,
          }),
        ),
      );
      const names = response.body?.logstores ?? [];
      return { names, total: response.body?.total ?? names.length };
    },

    async listAllLogstores(project, nameContains) {
      const all: string[] = [];
      for (;;) {
        const page = await this.listLogstores(project, {
          ...(nameContains ? { nameContains } : {}),
          offset: all.length,
          size: options.listPageSize ?? 500,
        });
        all.push(...page.names);
        if (page.names.length === 0 || all.length >= page.total) return all;
      }
    },

    async getLogstore(address) {
      const response = await call('GetLogStore', describe(address), () =>
        client.getLogStore(address.project, address.logstore),
      );
      const body = response.body;
      const info: LogstoreInfo = {
        name: body?.logstoreName ?? address.logstore,
        ttlDays: body?.ttl ?? 0,
        shardCount: body?.shardCount ?? 0,
        ...(body?.createTime === undefined ? {} : { createTime: body.createTime }),
      };
      return info;
    },

    async createLogstore(address, settings) {
      try {
        // Safe to repeat: a retry after a lost answer finds the Logstore and says `exists`.
        await call('CreateLogStore', describe(address), () =>
          client.createLogStore(
            address.project,
            new Sls.CreateLogStoreRequest({
              logstoreName: address.logstore,
              ttl: settings.ttlDays,
              shardCount: settings.shardCount,
            }),
          ),
        );
        return 'created';
      } catch (error) {
        if (error instanceof CloudApiError && error.failure.cloudCode === 'LogStoreAlreadyExist') {
          return 'exists';
        }
        throw error;
      }
    },

    async listShards(address) {
      const response = await call('ListShards', describe(address), () =>
        client.listShards(address.project, address.logstore),
      );
      return (response.body ?? []).map(
        (shard): Shard => ({
          shardId: shard.shardID ?? -1,
          status: shard.status === 'readonly' ? 'readonly' : 'readwrite',
          inclusiveBeginKey: shard.inclusiveBeginKey ?? '',
          exclusiveEndKey: shard.exclusiveEndKey ?? '',
          createTime: shard.createTime ?? 0,
        }),
      );
    },

    async cursor(address, shardId, position: CursorPosition) {
      const from = typeof position === 'string' ? position : String(position.unixSeconds);
      const where = `${describe(address)}, shard ${shardId}`;
      const response = await call('GetCursor', where, () =>
        client.getCursor(
          address.project,
          address.logstore,
          String(shardId),
          new Sls.GetCursorRequest({ from }),
        ),
      );
      const cursor = response.body?.cursor;
      if (!cursor) throw bodyFailure('GetCursor', where, new Error('the answer has no cursor'));
      return cursor;
    },

    async cursorTime(address, shardId, cursor) {
      const where = `${describe(address)}, shard ${shardId}`;
      const response = await call('GetCursorTime', where, () =>
        client.getCursorTime(
          address.project,
          address.logstore,
          String(shardId),
          new Sls.GetCursorTimeRequest({ cursor }),
        ),
      );
      const time = Number(response.body?.cursorTime);
      if (!Number.isFinite(time)) {
        throw bodyFailure('GetCursorTime', where, new Error('the answer has no cursor_time'));
      }
      return time;
    },

    pull(address, shardId, range) {
      return pullRange(address, shardId, {
        type: 'log',
        cursor: range.cursor,
        count: String(range.count ?? 1000),
        ...(range.endCursor ? { end_cursor: range.endCursor } : {}),
      });
    },

    decode(group) {
      return decodeLogGroup(group.bytes);
    },

    put(address, batch) {
      return putGroup(address, batch);
    },
  };
}

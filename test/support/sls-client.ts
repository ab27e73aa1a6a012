// A raw SLS client for tests, independent of localcloud's code: its own v1 signer (from the
// SLS signature documentation), LogGroup protobuf through protobufjs, lz4 through lz4-napi (the
// native codec the official SDK uses) and deflate through zlib. It talks plain HTTP to
// localcloud's port with the project in the Host header, or through localcloud as an HTTP proxy
// with an absolute-form request URI.

import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import { deflateSync, inflateSync } from 'node:zlib';
import { compressSync, uncompressSync } from 'lz4-napi';
import protobuf from 'protobufjs';

const root = protobuf.Root.fromJSON({
  nested: {
    Content: { fields: { Key: { type: 'string', id: 1 }, Value: { type: 'string', id: 2 } } },
    Log: {
      fields: {
        Time: { type: 'uint32', id: 1 },
        Contents: { rule: 'repeated', type: 'Content', id: 2 },
        TimeNs: { type: 'fixed32', id: 4 },
      },
    },
    LogTag: { fields: { Key: { type: 'string', id: 1 }, Value: { type: 'string', id: 2 } } },
    LogGroup: {
      fields: {
        Logs: { rule: 'repeated', type: 'Log', id: 1 },
        Topic: { type: 'string', id: 3 },
        Source: { type: 'string', id: 4 },
        LogTags: { rule: 'repeated', type: 'LogTag', id: 6 },
      },
    },
    LogGroupList: { fields: { logGroupList: { rule: 'repeated', type: 'LogGroup', id: 1 } } },
  },
});
/** protobufjs's LogGroup, from the same .proto fields as SLS's (also the benches' baseline). */
export const LogGroupType = root.lookupType('LogGroup');
const LogGroupListType = root.lookupType('LogGroupList');

export interface TestLog {
  time: number;
  contents: Record<string, string>;
}

export interface TestLogGroup {
  logs: TestLog[];
  topic?: string;
  source?: string;
  tags?: Record<string, string>;
}

export function encodeGroup(group: TestLogGroup): Buffer {
  const message = LogGroupType.create({
    Logs: group.logs.map((log) => ({
      Time: log.time,
      Contents: Object.entries(log.contents).map(([Key, Value]) => ({ Key, Value })),
    })),
    ...(group.topic === undefined ? {} : { Topic: group.topic }),
    ...(group.source === undefined ? {} : { Source: group.source }),
    LogTags: Object.entries(group.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
  });
  return Buffer.from(LogGroupType.encode(message).finish());
}

interface RawGroup {
  Logs?: Array<{ Time: number; Contents?: Array<{ Key: string; Value: string }> }>;
  Topic?: string;
  Source?: string;
  LogTags?: Array<{ Key: string; Value: string }>;
}

export function decodeGroupList(body: Buffer): TestLogGroup[] {
  const list = LogGroupListType.toObject(LogGroupListType.decode(body)) as {
    logGroupList?: RawGroup[];
  };
  return (list.logGroupList ?? []).map((group) => ({
    logs: (group.Logs ?? []).map((log) => ({
      time: log.Time,
      contents: Object.fromEntries((log.Contents ?? []).map((c) => [c.Key, c.Value])),
    })),
    ...(group.Topic === undefined ? {} : { topic: group.Topic }),
    ...(group.Source === undefined ? {} : { source: group.Source }),
    tags: Object.fromEntries((group.LogTags ?? []).map((t) => [t.Key, t.Value])),
  }));
}

/** lz4-napi frames its block with a 4-byte little-endian size: SLS carries the bare block. */
export function lz4Block(raw: Buffer): Buffer {
  return compressSync(raw).subarray(4);
}

export function lz4Unblock(block: Buffer, rawSize: number): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(rawSize);
  return uncompressSync(Buffer.concat([prefix, block]));
}

export interface Credentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

export interface SlsRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  project?: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Overrides for tests of bad requests. */
  date?: string;
  signature?: string;
  signatureMethod?: 'hmac-sha1' | 'hmac-sha256';
}

export interface SlsResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json<T = Record<string, unknown>>(): T;
}

/** v1 StringToSign: VERB, Content-MD5, Content-Type, Date, x-log-/x-acs- headers, resource. */
export function signV1(
  secret: string,
  method: string,
  headers: Record<string, string>,
  path: string,
  query: Record<string, string>,
): string {
  const canonicalHeaders = Object.keys(headers)
    .filter((name) => name.startsWith('x-log-') || name.startsWith('x-acs-'))
    .sort()
    .map((name) => `${name}:${headers[name]}\n`)
    .join('');
  const keys = Object.keys(query).sort();
  const resource =
    keys.length === 0 ? path : `${path}?${keys.map((k) => `${k}=${query[k]}`).join('&')}`;
  const text = `${method}\n${headers['content-md5'] ?? ''}\n${headers['content-type'] ?? ''}\n${headers.date}\n${canonicalHeaders}${resource}`;
  const algorithm = headers['x-log-signaturemethod'] === 'hmac-sha256' ? 'sha256' : 'sha1';
  return createHmac(algorithm, secret).update(text).digest('base64');
}

export class RawSlsClient {
  constructor(
    /** http://127.0.0.1:<port> of localcloud. */
    private readonly url: string,
    private readonly credentials: Credentials,
    /** 'host': project in the Host header on localcloud's port; 'proxy': absolute-form URI for
     *  <project>.<region>.log.aliyuncs.com sent to localcloud as an HTTP proxy. */
    private readonly mode: 'host' | 'proxy' = 'host',
    private readonly region = 'cn-hangzhou',
  ) {}

  withCredentials(credentials: Credentials): RawSlsClient {
    return new RawSlsClient(this.url, credentials, this.mode, this.region);
  }

  async request(req: SlsRequest): Promise<SlsResponse> {
    const query = req.query ?? {};
    const body = req.body ?? Buffer.alloc(0);
    const local = new URL(this.url);
    const cloudHost = req.project
      ? `${req.project}.${this.region}.log.aliyuncs.com`
      : `${this.region}.log.aliyuncs.com`;
    const host =
      this.mode === 'proxy' ? cloudHost : req.project ? `${req.project}.${local.host}` : local.host;
    const headers: Record<string, string> = {
      host,
      date: req.date ?? new Date().toUTCString(),
      'x-log-apiversion': '0.6.0',
      'x-log-signaturemethod': req.signatureMethod ?? 'hmac-sha1',
      'x-log-bodyrawsize': String(body.length),
      ...(body.length > 0
        ? { 'content-md5': createHash('md5').update(body).digest('hex').toUpperCase() }
        : {}),
      ...(this.credentials.securityToken
        ? { 'x-acs-security-token': this.credentials.securityToken }
        : {}),
      ...req.headers,
    };
    const signature =
      req.signature ??
      signV1(this.credentials.accessKeySecret, req.method, headers, req.path, query);
    headers.authorization = `LOG ${this.credentials.accessKeyId}:${signature}`;
    const search = new URLSearchParams(query).toString();
    const pathAndQuery = `${req.path.split('/').map(encodeURIComponent).join('/')}${search ? `?${search}` : ''}`;
    const target = this.mode === 'proxy' ? `http://${cloudHost}${pathAndQuery}` : pathAndQuery;
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          host: local.hostname,
          port: local.port,
          method: req.method,
          path: target,
          headers: { ...headers, 'content-length': String(body.length) },
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const buffer = Buffer.concat(chunks);
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: buffer,
              json: <T>() => JSON.parse(buffer.toString('utf8') || 'null') as T,
            });
          });
          res.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  // -- operations ---------------------------------------------------------------------------

  async putLogs(
    project: string,
    logstore: string,
    group: TestLogGroup,
    options: { compress?: 'lz4' | 'deflate' | 'none'; hashKey?: string } = {},
  ): Promise<SlsResponse> {
    const raw = encodeGroup(group);
    const type = options.compress ?? 'lz4';
    const body = type === 'lz4' ? lz4Block(raw) : type === 'deflate' ? deflateSync(raw) : raw;
    return this.request({
      method: 'POST',
      project,
      path: `/logstores/${logstore}/shards/${options.hashKey ? 'route' : 'lb'}`,
      ...(options.hashKey ? { query: { key: options.hashKey } } : {}),
      headers: {
        'content-type': 'application/x-protobuf',
        'x-log-bodyrawsize': String(raw.length),
        ...(type === 'none' ? {} : { 'x-log-compresstype': type }),
      },
      body,
    });
  }

  async cursor(project: string, logstore: string, shard: number, from: string): Promise<string> {
    const res = await this.request({
      method: 'GET',
      project,
      path: `/logstores/${logstore}/shards/${shard}`,
      query: { type: 'cursor', from },
    });
    if (res.status !== 200) throw new Error(`GetCursor ${res.status} ${res.body.toString()}`);
    return res.json<{ cursor: string }>().cursor;
  }

  async pullLogs(
    project: string,
    logstore: string,
    shard: number,
    cursor: string,
    options: { count?: number; endCursor?: string; encoding?: 'lz4' | 'deflate' } = {},
  ): Promise<{ res: SlsResponse; groups: TestLogGroup[]; next: string }> {
    const res = await this.request({
      method: 'GET',
      project,
      path: `/logstores/${logstore}/shards/${shard}`,
      query: {
        type: 'log',
        cursor,
        count: String(options.count ?? 1000),
        ...(options.endCursor ? { end_cursor: options.endCursor } : {}),
      },
      headers: {
        accept: 'application/x-protobuf',
        ...(options.encoding ? { 'accept-encoding': options.encoding } : {}),
      },
    });
    if (res.status !== 200) return { res, groups: [], next: cursor };
    const rawSize = Number(res.headers['x-log-bodyrawsize']);
    const type = res.headers['x-log-compresstype'];
    const raw =
      type === 'lz4'
        ? lz4Unblock(res.body, rawSize)
        : type === 'deflate'
          ? inflateSync(res.body)
          : res.body;
    return { res, groups: decodeGroupList(raw), next: String(res.headers['x-log-cursor']) };
  }

  async createLogstore(
    project: string,
    logstore: string,
    options: { ttl: number; shardCount: number },
  ): Promise<SlsResponse> {
    return this.request({
      method: 'POST',
      project,
      path: '/logstores',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ logstoreName: logstore, ...options })),
    });
  }

  async listShards(project: string, logstore: string): Promise<ShardInfo[]> {
    const res = await this.request({
      method: 'GET',
      project,
      path: `/logstores/${logstore}/shards`,
    });
    if (res.status !== 200) throw new Error(`ListShards ${res.status} ${res.body.toString()}`);
    return res.json();
  }
}

/** A deterministic stream of 32-hex hash keys spread over the whole key space. */
export function spreadHashKey(i: number): string {
  return ((i * 2654435761) >>> 0).toString(16).padStart(8, '0').padEnd(32, '0');
}

export interface ShardInfo {
  shardID: number;
  status: string;
  inclusiveBeginKey: string;
  exclusiveEndKey: string;
}

function overlaps(a: ShardInfo, b: ShardInfo): boolean {
  return a.inclusiveBeginKey < b.exclusiveEndKey && b.inclusiveBeginKey < a.exclusiveEndKey;
}

/**
 * Reads a Logstore as a consumer must across splits and merges: a shard is read only once every
 * older readonly shard overlapping its range was read to its end (parents before children), and
 * a readonly shard read to its end is finished. Cursors are kept between passes (they are plain
 * strings, so they also carry over a restart of the server).
 */
export class LineageReader {
  private readonly cursors = new Map<number, string>();
  private readonly finished = new Set<number>();
  private pulls = 0;

  constructor(
    private client: RawSlsClient,
    private readonly project: string,
    private readonly logstore: string,
    /** Log groups per PullLogs call. */
    private readonly count = 7,
  ) {}

  /** Reads on through another client (after a restart, say). */
  use(client: RawSlsClient): void {
    this.client = client;
  }

  /** One pass over the shards that may be read now; each group read goes to `onGroup`. */
  async pass(onGroup: (group: TestLogGroup, shardId: number) => void): Promise<void> {
    const shards = await this.client.listShards(this.project, this.logstore);
    for (const shard of shards) {
      if (this.finished.has(shard.shardID)) continue;
      const waiting = shards.some(
        (other) =>
          other.shardID < shard.shardID &&
          other.status === 'readonly' &&
          overlaps(other, shard) &&
          !this.finished.has(other.shardID),
      );
      if (waiting) continue;
      let cursor =
        this.cursors.get(shard.shardID) ??
        (await this.client.cursor(this.project, this.logstore, shard.shardID, 'begin'));
      for (;;) {
        const pulled = await this.client.pullLogs(
          this.project,
          this.logstore,
          shard.shardID,
          cursor,
          { count: this.count, encoding: this.pulls++ % 2 === 0 ? 'lz4' : 'deflate' },
        );
        if (pulled.res.status !== 200) {
          throw new Error(`PullLogs ${pulled.res.status} ${pulled.res.body.toString()}`);
        }
        for (const group of pulled.groups) onGroup(group, shard.shardID);
        if (pulled.next === cursor) break;
        cursor = pulled.next;
      }
      this.cursors.set(shard.shardID, cursor);
      if (shard.status === 'readonly') this.finished.add(shard.shardID);
    }
  }
}

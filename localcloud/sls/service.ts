// The SLS (Log Service, API 0.6.0) service of localcloud: the REST API with the project in the
// host (`<project>.<endpoint>`), v1 (`LOG ak:sig`) and v4 (`SLS4-HMAC-SHA256`) signatures checked
// against the caller's secret, a member's projects open only to that member's identities (session
// policies narrow STS tokens), JSON answers and errors `{errorCode, errorMessage}` with
// `x-log-requestid`, and PullLogs / PutLogs on protobuf bodies with lz4, deflate or gzip.

import { createHash, randomBytes } from 'node:crypto';
import type {
  LocalRequest,
  LocalResponse,
  LocalService,
  Principal,
  ServiceContext,
  ServiceOutcome,
} from '../core/contracts';
import { parsePolicy, permissionAllows } from '../core/policy';
import {
  type CompressType,
  compress,
  decodeLogGroup,
  decompress,
  encodeLogGroupList,
  isCompressType,
  type LogGroup,
} from './codec';
import { parameterInvalid, SlsError } from './errors';
import {
  LIMITS,
  type Logstore,
  type Project,
  parseHashKey,
  type Shard,
  type SlsModel,
  shardView,
} from './model';
import { compileQuery, queryMatches } from './query';
import {
  contentMd5Hex,
  EMPTY_SHA256,
  parseV4Authorization,
  type SignedRequest,
  signaturesEqual,
  v1Signature,
  v4Signature,
} from './signature';

export const SLS_API_VERSION = '0.6.0';
const MAX_SKEW_MS = 15 * 60 * 1000;

/** The API actions localcloud answers (names as in the API reference and the call log). */
export type SlsAction =
  | 'ListProject'
  | 'CreateProject'
  | 'GetProject'
  | 'ListLogStores'
  | 'CreateLogStore'
  | 'GetLogStore'
  | 'DeleteLogStore'
  | 'GetLogs'
  | 'ListShards'
  | 'SplitShard'
  | 'MergeShards'
  | 'GetCursor'
  | 'GetCursorTime'
  | 'PullLogs'
  | 'PutLogs';

/** The RAM action each API action is authorized as. */
const RAM_ACTIONS: Record<SlsAction, string> = {
  ListProject: 'log:ListProject',
  CreateProject: 'log:CreateProject',
  GetProject: 'log:GetProject',
  ListLogStores: 'log:ListLogStores',
  CreateLogStore: 'log:CreateLogStore',
  GetLogStore: 'log:GetLogStore',
  DeleteLogStore: 'log:DeleteLogStore',
  GetLogs: 'log:GetLogStoreLogs',
  ListShards: 'log:ListShards',
  SplitShard: 'log:SplitShard',
  MergeShards: 'log:MergeShards',
  GetCursor: 'log:GetCursorOrData',
  GetCursorTime: 'log:GetCursorOrData',
  PullLogs: 'log:GetCursorOrData',
  PutLogs: 'log:PostLogStoreLogs',
};

export interface SlsAddress {
  project: string | undefined;
  region: string;
}

/**
 * Where a request is addressed. The project is the first label of the host:
 * `<project>.<region>[-intranet|-share].log.aliyuncs.com` (through localcloud as an HTTP proxy),
 * `<project>.127.0.0.1:<port>` / `<project>.localhost:<port>` (a client that connects by address),
 * or, from the Node SDK with an endpoint `<real endpoint>@127.0.0.1:<port>` (or `@127.0.0.1:<port>`),
 * `<project>.<region>.log.aliyuncs.com@127.0.0.1:<port>` (or `<project>.@127.0.0.1:<port>`): the
 * URL reads everything before `@` as user info, so the client connects to localcloud and sends
 * the whole name in Host; the part before `@` is then read as the host name it stands for.
 */
export function parseSlsHost(host: string, defaultRegion: string): SlsAddress {
  const at = host.lastIndexOf('@');
  const named = at === -1 ? host : host.slice(0, at);
  const hostname = named.replace(/:\d+$/, '').replace(/\.$/, '').toLowerCase();
  const cloud =
    /^(?:([a-z0-9-]+)\.)?([a-z0-9-]+?)(?:-intranet|-share|-vpc)?\.log\.aliyuncs\.com$/.exec(
      hostname,
    );
  if (cloud) return { project: cloud[1], region: cloud[2] as string };
  if (at !== -1 && /^[a-z0-9-]+$/.test(hostname))
    return { project: hostname, region: defaultRegion };
  const local = /^([a-z0-9-]+)\.(?:localhost|127\.\d+\.\d+\.\d+)$/.exec(hostname);
  if (local) return { project: local[1], region: defaultRegion };
  return { project: undefined, region: defaultRegion };
}

interface Route {
  action: SlsAction;
  logstore?: string;
  shard?: string;
}

function route(req: LocalRequest): Route | undefined {
  const method = req.method.toUpperCase();
  const parts = req.url.pathname
    .split('/')
    .filter((part) => part !== '')
    .map((part) => decodeURIComponent(part));
  const q = req.url.searchParams;
  if (parts.length === 0 && method === 'GET') {
    return { action: hostProject(req) ? 'GetProject' : 'ListProject' };
  }
  // API 2020-12-30 creates a project at the endpoint itself, the name in the body.
  if (parts.length === 0 && method === 'POST') return { action: 'CreateProject' };
  if (parts[0] !== 'logstores') return undefined;
  const [, logstore, shardsWord, shard] = parts;
  if (parts.length === 1) {
    if (method === 'GET') return { action: 'ListLogStores' };
    if (method === 'POST') return { action: 'CreateLogStore' };
    return undefined;
  }
  if (parts.length === 2 && logstore) {
    if (method === 'GET')
      return { action: q.get('type') === 'log' ? 'GetLogs' : 'GetLogStore', logstore };
    if (method === 'DELETE') return { action: 'DeleteLogStore', logstore };
    return undefined;
  }
  if (shardsWord !== 'shards' || !logstore) return undefined;
  if (parts.length === 3 && method === 'GET') return { action: 'ListShards', logstore };
  if (parts.length !== 4 || shard === undefined) return undefined;
  if (method === 'POST') {
    if (shard === 'lb' || shard === 'route') return { action: 'PutLogs', logstore, shard };
    const op = q.get('action');
    if (op === 'split') return { action: 'SplitShard', logstore, shard };
    if (op === 'merge') return { action: 'MergeShards', logstore, shard };
    return undefined;
  }
  if (method === 'GET') {
    const type = q.get('type');
    if (type === 'cursor') return { action: 'GetCursor', logstore, shard };
    if (type === 'cursor_time') return { action: 'GetCursorTime', logstore, shard };
    if (type === 'log' || type === 'logs') return { action: 'PullLogs', logstore, shard };
  }
  return undefined;
}

function hostProject(req: LocalRequest): string | undefined {
  return parseSlsHost(req.headers.host ?? req.url.host, 'cn-hangzhou').project;
}

export function slsRequestId(): string {
  return randomBytes(12).toString('hex').toUpperCase();
}

function baseHeaders(requestId: string): Record<string, string> {
  return {
    server: 'AliyunSLS',
    'x-log-requestid': requestId,
    date: new Date().toUTCString(),
  };
}

function jsonResponse(status: number, body: unknown, requestId: string): LocalResponse {
  return {
    status,
    headers: { ...baseHeaders(requestId), 'content-type': 'application/json' },
    body: body === undefined ? '' : JSON.stringify(body),
  };
}

export function slsErrorResponse(
  status: number,
  code: string,
  message: string,
  requestId: string,
): LocalResponse {
  return jsonResponse(status, { errorCode: code, errorMessage: message }, requestId);
}

const unauthorized = (message: string) => new SlsError(401, 'Unauthorized', message);

export interface SlsServiceOptions {
  model: SlsModel;
  /** The region a request names when its host does not (localcloud's region). */
  region: string;
  /** Real time, for the Date / x-log-date skew check (the SDKs stamp the machine's time). */
  wallNow: () => number;
}

export interface SlsService extends LocalService {
  readonly model: SlsModel;
}

function integerParam(
  q: URLSearchParams,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = q.get(name);
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw parameterInvalid(`${name} must be an integer from ${min} to ${max}: ${raw}`);
  }
  return value;
}

function shardId(text: string | undefined): number {
  const id = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || !Number.isSafeInteger(id)) {
    throw parameterInvalid(`shard id must be a non-negative integer: ${text}`);
  }
  return id;
}

export function createSlsService(options: SlsServiceOptions): SlsService {
  const { model } = options;

  function authenticate(req: LocalRequest, ctx: ServiceContext, body: Buffer): Principal {
    const version = req.headers['x-log-apiversion'];
    if (version === undefined)
      throw new SlsError(
        400,
        'MissingAPIVersion',
        'x-log-apiversion does not exist in http header',
      );
    if (version !== SLS_API_VERSION)
      throw new SlsError(400, 'InvalidAPIVersion', `x-log-apiversion ${version} is unsupported`);
    const authorization = req.headers.authorization;
    if (!authorization)
      throw unauthorized('Authorization does not exist in http header: anonymous access is denied');
    const signed: SignedRequest = {
      method: req.method,
      path: decodeURIComponent(req.url.pathname),
      query: [...req.url.searchParams.entries()],
      headers: req.headers,
    };
    const token = req.headers['x-acs-security-token'];
    const resolve = (accessKeyId: string) => {
      const resolved = ctx.credentials.resolve(accessKeyId, token === '' ? undefined : token);
      if (resolved.ok) return resolved;
      if (resolved.code === 'InvalidSecurityToken.Expired')
        throw unauthorized('The security token you provided has expired.');
      if (resolved.code.startsWith('InvalidSecurityToken'))
        throw unauthorized('The security token you provided is invalid.');
      if (resolved.code === 'InvalidAccessKeyId.Inactive')
        throw unauthorized(`AccessKeyId is disabled: ${accessKeyId}`);
      if (resolved.code === 'NoPermission') throw unauthorized(resolved.message);
      throw unauthorized(`AccessKeyId not found: ${accessKeyId}`);
    };

    const v4 = authorization.startsWith('SLS4-') ? parseV4Authorization(authorization) : undefined;
    if (authorization.startsWith('SLS4-')) {
      if (!v4) throw unauthorized(`Authorization ${authorization.split(',')[0]} is malformed`);
      const date = req.headers['x-log-date'] ?? '';
      const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
      if (!match) throw new SlsError(400, 'InvalidDateFormat', `x-log-date ${date} is invalid`);
      const at = Date.UTC(
        Number(match[1]),
        Number(match[2]) - 1,
        Number(match[3]),
        Number(match[4]),
        Number(match[5]),
        Number(match[6]),
      );
      checkSkew(at, date);
      const hash = req.headers['x-log-content-sha256'] ?? EMPTY_SHA256;
      const actual = body.length === 0 ? EMPTY_SHA256 : sha256(body);
      if (hash !== actual) {
        throw new SlsError(
          401,
          'SignatureNotMatch',
          'x-log-content-sha256 does not match the body',
        );
      }
      const resolved = resolve(v4.accessKeyId);
      const expected = v4Signature(resolved.secret, signed, { date: v4.date, region: v4.region });
      if (!signaturesEqual(expected, v4.signature))
        throw new SlsError(401, 'SignatureNotMatch', `Signature ${v4.signature} not matched.`);
      return resolved.principal;
    }
    const v1 = /^LOG\s+([^:\s]+):(\S+)$/.exec(authorization.trim());
    if (!v1) throw unauthorized('Authorization must be LOG <AccessKeyId>:<Signature>');
    const [, accessKeyId = '', signature = ''] = v1;
    const date = req.headers.date;
    if (!date) throw new SlsError(400, 'MissingDate', 'Date does not exist in http header');
    const at = Date.parse(date);
    if (Number.isNaN(at) || !/GMT$/.test(date.trim()))
      throw new SlsError(400, 'InvalidDateFormat', `Date ${date} must follow RFC822.`);
    checkSkew(at, date);
    if (body.length > 0) {
      const md5 = req.headers['content-md5'];
      if (md5 !== undefined && md5 !== contentMd5Hex(body)) {
        throw new SlsError(400, 'InvalidContentMD5', 'Content-MD5 does not match the body');
      }
    }
    const resolved = resolve(accessKeyId);
    if (!signaturesEqual(v1Signature(resolved.secret, signed), signature))
      throw new SlsError(401, 'SignatureNotMatch', `Signature ${signature} not matched.`);
    return resolved.principal;
  }

  function checkSkew(at: number, text: string): void {
    const now = options.wallNow();
    if (Math.abs(now - at) > MAX_SKEW_MS) {
      throw new SlsError(
        400,
        'RequestTimeExpired',
        `Request time ${text} has been expired while server time is ${new Date(now).toUTCString()}.`,
      );
    }
  }

  /** A member's projects answer only that member's identities; session policies narrow tokens. */
  function authorize(
    caller: Principal,
    action: SlsAction,
    resource: string,
    owner: string | undefined,
  ): void {
    const ramAction = RAM_ACTIONS[action];
    const denied = () =>
      unauthorized(`denied by sts or ram, action: ${ramAction}, resource: ${resource}`);
    if (owner !== undefined && caller.accountId !== owner) throw denied();
    if (caller.sessionPolicy !== undefined) {
      const parsed = parsePolicy(caller.sessionPolicy, 'permission');
      if (!parsed.ok || !permissionAllows(parsed.policy, ramAction, resource)) throw denied();
    }
  }

  function resourceOf(region: string, owner: string, project?: string, logstore?: string) {
    let resource = `acs:log:${region}:${owner}:project/${project ?? '*'}`;
    if (logstore !== undefined) resource += `/logstore/${logstore}`;
    return resource;
  }

  async function handle(req: LocalRequest, ctx: ServiceContext): Promise<ServiceOutcome> {
    const requestId = slsRequestId();
    let caller: Principal | undefined;
    try {
      const found = route(req);
      if (!found) {
        throw new SlsError(
          404,
          'RequestNotSupported',
          `${req.method} ${req.url.pathname}${req.url.search} is not an SLS API localcloud answers`,
        );
      }
      if (req.body.length > LIMITS.bodyBytes) {
        throw new SlsError(
          413,
          'PostBodyTooLarge',
          `body size ${req.body.length} must little than ${LIMITS.bodyBytes}`,
        );
      }
      caller = authenticate(req, ctx, req.body);
      const address = parseSlsHost(req.headers.host ?? req.url.host, options.region);
      const response = dispatch(found, address, caller, req, requestId);
      return { response, caller, result: 'ok' };
    } catch (error) {
      if (!(error instanceof SlsError)) throw error;
      return {
        response: slsErrorResponse(error.status, error.code, error.message, requestId),
        ...(caller ? { caller } : {}),
        result: error.code,
      };
    }
  }

  function dispatch(
    found: Route,
    address: SlsAddress,
    caller: Principal,
    req: LocalRequest,
    requestId: string,
  ): LocalResponse {
    const q = req.url.searchParams;
    const { region } = address;
    if (found.action === 'ListProject') {
      authorize(caller, 'ListProject', resourceOf(region, caller.accountId), undefined);
      const offset = integerParam(q, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
      const size = integerParam(q, 'size', 100, 1, LIMITS.listSizeMax);
      const nameFilter = q.get('projectName') ?? '';
      const mine = model
        .projects(region)
        .filter((p) => p.owner === caller.accountId && p.name.includes(nameFilter));
      const page = mine.slice(offset, offset + size);
      return jsonResponse(
        200,
        { count: page.length, total: mine.length, projects: page.map(projectBody) },
        requestId,
      );
    }
    if (found.action === 'CreateProject') {
      const body = readJson(req);
      const name = body.projectName;
      if (typeof name !== 'string') throw parameterInvalid('projectName is required');
      authorize(caller, 'CreateProject', resourceOf(region, caller.accountId, name), undefined);
      // Names are unique in a region, whoever owns the project.
      if (model.findProject(region, name)) {
        throw new SlsError(400, 'ProjectAlreadyExist', `Project ${name} already exist`);
      }
      model.createProject({
        region,
        name,
        owner: caller.accountId,
        ...(typeof body.description === 'string' ? { description: body.description } : {}),
      });
      return jsonResponse(200, undefined, requestId);
    }
    if (!address.project) {
      throw new SlsError(
        400,
        'InvalidHost',
        `Host ${req.headers.host ?? ''} does not name a project: address it as <project>.<endpoint>`,
      );
    }
    const project = model.project(region, address.project);
    const owner = project.owner;
    const logstoreResource = resourceOf(region, owner, project.name, found.logstore ?? '*');
    if (found.action === 'GetProject') {
      authorize(caller, 'GetProject', resourceOf(region, owner, project.name), owner);
      return jsonResponse(200, projectBody(project), requestId);
    }
    authorize(caller, found.action, logstoreResource, owner);
    switch (found.action) {
      case 'ListLogStores': {
        const offset = integerParam(q, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
        const size = integerParam(q, 'size', 200, 1, LIMITS.listSizeMax);
        const filter = q.get('logstoreName') ?? '';
        const names = [...project.logstores.keys()].filter((name) => name.includes(filter)).sort();
        const page = names.slice(offset, offset + size);
        return jsonResponse(
          200,
          { count: page.length, total: names.length, logstores: page },
          requestId,
        );
      }
      case 'CreateLogStore': {
        const body = readJson(req);
        const name = body.logstoreName;
        if (typeof name !== 'string') throw parameterInvalid('logstoreName is required');
        const optionalNumber = (key: string) => {
          const value = body[key];
          if (value === undefined) return undefined;
          if (typeof value !== 'number') throw parameterInvalid(`${key} must be a number`);
          return value;
        };
        const ttl = optionalNumber('ttl');
        const shardCount = optionalNumber('shardCount');
        const maxSplitShard = optionalNumber('maxSplitShard');
        model.createLogstore(project, {
          name,
          ...(ttl === undefined ? {} : { ttl }),
          ...(shardCount === undefined ? {} : { shardCount }),
          ...(maxSplitShard === undefined ? {} : { maxSplitShard }),
          ...(typeof body.autoSplit === 'boolean' ? { autoSplit: body.autoSplit } : {}),
          ...(typeof body.appendMeta === 'boolean' ? { appendMeta: body.appendMeta } : {}),
          ...(typeof body.telemetryType === 'string' ? { telemetryType: body.telemetryType } : {}),
          ...(typeof body.mode === 'string' ? { mode: body.mode } : {}),
        });
        return jsonResponse(200, undefined, requestId);
      }
      case 'GetLogStore':
        return jsonResponse(
          200,
          logstoreBody(model.logstore(project, found.logstore as string)),
          requestId,
        );
      case 'DeleteLogStore':
        model.deleteLogstore(project, found.logstore as string);
        return jsonResponse(200, undefined, requestId);
      case 'GetLogs':
        return getLogs(model.logstore(project, found.logstore as string), q, requestId);
      case 'ListShards': {
        const logstore = model.logstore(project, found.logstore as string);
        return jsonResponse(200, model.shards(logstore).map(shardView), requestId);
      }
      case 'SplitShard': {
        const logstore = model.logstore(project, found.logstore as string);
        const key = parseHashKey(q.get('key') ?? '');
        if (key === undefined)
          throw parameterInvalid('key must be a hash key of up to 32 hex digits');
        const shards = model.splitShard(project, logstore, shardId(found.shard), key);
        return jsonResponse(200, shards.map(shardView), requestId);
      }
      case 'MergeShards': {
        const logstore = model.logstore(project, found.logstore as string);
        const shards = model.mergeShards(project, logstore, shardId(found.shard));
        return jsonResponse(200, shards.map(shardView), requestId);
      }
      case 'GetCursor': {
        const shard = shardOf(project, found);
        const from = q.get('from') ?? '';
        let at: 'begin' | 'end' | number;
        if (from === 'begin' || from === 'end') at = from;
        else if (/^\d{1,12}$/.test(from)) at = Number(from);
        else throw parameterInvalid(`from must be begin, end or a unix time in seconds: ${from}`);
        return jsonResponse(200, { cursor: model.cursorFrom(shard, at) }, requestId);
      }
      case 'GetCursorTime': {
        const shard = shardOf(project, found);
        const cursor = q.get('cursor');
        if (!cursor) throw parameterInvalid('cursor is required');
        return jsonResponse(200, { cursor_time: model.cursorTime(shard, cursor) }, requestId);
      }
      case 'PullLogs':
        return pullLogs(project, found, req, requestId);
      case 'PutLogs':
        return putLogs(project, found, req, requestId);
    }
    throw new SlsError(404, 'RequestNotSupported', `${found.action} is not supported`);
  }

  function shardOf(project: Project, found: Route): Shard {
    const logstore = model.logstore(project, found.logstore as string);
    return model.shard(logstore, shardId(found.shard));
  }

  function pullLogs(
    project: Project,
    found: Route,
    req: LocalRequest,
    requestId: string,
  ): LocalResponse {
    const q = req.url.searchParams;
    const logstore = model.logstore(project, found.logstore as string);
    const shard = model.shard(logstore, shardId(found.shard));
    const cursor = q.get('cursor');
    if (!cursor) throw parameterInvalid('cursor is required');
    const count = integerParam(q, 'count', 1000, 1, LIMITS.pullCountMax);
    const endCursor = q.get('end_cursor') ?? undefined;
    const pulled = model.pull(project, logstore, shard, cursor, count, endCursor || undefined);
    const raw = encodeLogGroupList(pulled.groups.map((group) => group.bytes));
    const encoding = acceptedCompression(req.headers['accept-encoding']);
    const body = encoding ? compress(encoding, raw) : raw;
    return {
      status: 200,
      headers: {
        ...baseHeaders(requestId),
        'content-type': 'application/x-protobuf',
        'x-log-cursor': pulled.nextCursor,
        'x-log-count': String(pulled.groups.length),
        'x-log-bodyrawsize': String(raw.length),
        ...(encoding ? { 'x-log-compresstype': encoding } : {}),
      },
      body,
    };
  }

  function putLogs(
    project: Project,
    found: Route,
    req: LocalRequest,
    requestId: string,
  ): LocalResponse {
    const logstore = model.logstore(project, found.logstore as string);
    let hashKey: bigint | undefined;
    if (found.shard === 'route') {
      const key = req.url.searchParams.get('key') ?? '';
      hashKey = parseHashKey(key);
      if (hashKey === undefined)
        throw parameterInvalid(`key must be a hash key of up to 32 hex digits: ${key}`);
    }
    const contentType = req.headers['content-type'];
    if (req.body.length > 0 && !contentType) {
      throw new SlsError(
        400,
        'MissingContentType',
        'Content-Type does not exist in http header when body is not empty',
      );
    }
    if (contentType !== undefined && !contentType.startsWith('application/x-protobuf')) {
      throw new SlsError(415, 'InvalidContentType', `Content-Type ${contentType} is unsupported`);
    }
    const raw = readBody(req);
    if (raw.length > LIMITS.groupRawBytes) {
      throw new SlsError(
        413,
        'PostBodyTooLarge',
        `logGroup size ${raw.length} must little than ${LIMITS.groupRawBytes}`,
      );
    }
    let group: LogGroup;
    try {
      group = decodeLogGroup(raw);
    } catch (error) {
      throw new SlsError(
        400,
        'PostBodyInvalid',
        `the body is not a LogGroup: ${(error as Error).message}`,
      );
    }
    if (group.logs.length === 0)
      throw new SlsError(400, 'PostBodyInvalid', 'the LogGroup has no log');
    if (group.logs.length > LIMITS.logsPerGroup) {
      throw new SlsError(
        400,
        'InvalidLogSize',
        `logItem count ${group.logs.length} exceeds ${LIMITS.logsPerGroup} in one LogGroup`,
      );
    }
    for (const log of group.logs) {
      if (!(log.time > 0)) {
        throw new SlsError(400, 'InvalidTimestamp', `Invalid timestamp ${log.time} in log`);
      }
    }
    const shard = model.writeShard(logstore, hashKey);
    model.append(project, logstore, shard, { bytes: raw, logCount: group.logs.length });
    return jsonResponse(200, undefined, requestId);
  }

  function getLogs(logstore: Logstore, q: URLSearchParams, requestId: string): LocalResponse {
    const fromText = q.get('from');
    const toText = q.get('to');
    if (!fromText || !toText || !/^\d+$/.test(fromText) || !/^\d+$/.test(toText)) {
      throw parameterInvalid('from and to (unix time in seconds) are required');
    }
    const from = Number(fromText);
    const to = Number(toText);
    if (from >= to) throw parameterInvalid('from must be earlier than to');
    const line = integerParam(q, 'line', 100, 0, 100);
    const offset = integerParam(q, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
    const reverse = q.get('reverse') === 'true';
    const topic = q.get('topic');
    const compiled = compileQuery(q.get('query') ?? undefined);
    const matches: Array<Record<string, string>> = [];
    for (const { group } of model.retained(logstore)) {
      const decoded = decodeLogGroup(group.bytes);
      if (topic !== null && topic !== '' && (decoded.topic ?? '') !== topic) continue;
      for (const log of decoded.logs) {
        if (log.time < from || log.time >= to) continue;
        const fields: Record<string, string> = {
          __time__: String(log.time),
          __topic__: decoded.topic ?? '',
          __source__: decoded.source ?? '',
        };
        for (const tag of decoded.tags) fields[`__tag__:${tag.key}`] = tag.value;
        for (const content of log.contents) fields[content.key] = content.value;
        if (queryMatches(compiled, { fields })) matches.push(fields);
      }
    }
    matches.sort((a, b) => Number(a.__time__) - Number(b.__time__));
    if (reverse) matches.reverse();
    const page = matches.slice(offset, offset + line);
    const response = jsonResponse(200, page, requestId);
    response.headers['x-log-progress'] = 'Complete';
    response.headers['x-log-count'] = String(page.length);
    response.headers['x-log-processed-rows'] = String(matches.length);
    return response;
  }

  return {
    name: 'sls',
    model,
    matches(req) {
      if (req.url.pathname.startsWith('/__localcloud/')) return false;
      if (req.headers['x-log-apiversion'] !== undefined) return true;
      return /\.log\.aliyuncs\.com(:\d+)?$/i.test(req.headers.host ?? '');
    },
    action(req) {
      return route(req)?.action ?? 'Unknown';
    },
    handle,
    errorResponse: slsErrorResponse,
    faultErrors: {
      throttle: { status: 403, code: 'WriteQuotaExceed', message: 'Project write quota exceed' },
      error5xx: {
        status: 500,
        code: 'InternalServerError',
        message: 'Internal server error, please try again later',
      },
    },
  };
}

function sha256(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

function readJson(req: LocalRequest): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.body.toString('utf8') || '{}');
  } catch {
    throw parameterInvalid('the request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw parameterInvalid('the request body must be a JSON object');
  return parsed as Record<string, unknown>;
}

function readBody(req: LocalRequest): Buffer {
  const type = req.headers['x-log-compresstype'];
  const rawSizeText = req.headers['x-log-bodyrawsize'];
  if (type === undefined || type === '') return req.body;
  if (!isCompressType(type))
    throw new SlsError(400, 'InvalidCompressType', `x-log-compresstype ${type} is unsupported`);
  if (rawSizeText === undefined) {
    throw new SlsError(
      400,
      'MissingBodyRawSize',
      'x-log-bodyrawsize does not exist in header when it is necessary',
    );
  }
  const rawSize = Number(rawSizeText);
  if (!/^\d+$/.test(rawSizeText) || rawSize > LIMITS.bodyBytes * 10) {
    throw new SlsError(400, 'InvalidBodyRawSize', `x-log-bodyrawsize ${rawSizeText} is invalid`);
  }
  if (rawSize > LIMITS.groupRawBytes) {
    throw new SlsError(
      413,
      'PostBodyTooLarge',
      `logGroup size ${rawSize} must little than ${LIMITS.groupRawBytes}`,
    );
  }
  try {
    return decompress(type, req.body, rawSize);
  } catch (error) {
    throw new SlsError(
      400,
      'PostBodyInvalid',
      `the body does not decompress (${type}) to x-log-bodyrawsize ${rawSize} bytes: ${(error as Error).message}`,
    );
  }
}

/** The first encoding of Accept-Encoding that SLS compresses PullLogs with. */
function acceptedCompression(header: string | undefined): CompressType | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const name = part.split(';')[0]?.trim().toLowerCase() ?? '';
    if (isCompressType(name)) return name;
  }
  return undefined;
}

function projectBody(project: Project): Record<string, unknown> {
  return {
    projectName: project.name,
    status: 'Normal',
    owner: project.owner,
    description: project.description,
    region: project.region,
    createTime: String(project.createTime),
    lastModifyTime: String(project.lastModifyTime),
    resourceGroupId: '',
    dataRedundancyType: 'LRS',
  };
}

function logstoreBody(logstore: Logstore): Record<string, unknown> {
  return {
    logstoreName: logstore.name,
    ttl: logstore.ttl,
    shardCount: [...logstore.shards.values()].filter((s) => s.status === 'readwrite').length,
    enable_tracking: false,
    autoSplit: logstore.autoSplit,
    maxSplitShard: logstore.maxSplitShard,
    appendMeta: logstore.appendMeta,
    telemetryType: logstore.telemetryType,
    mode: logstore.mode,
    createTime: logstore.createTime,
    lastModifyTime: logstore.lastModifyTime,
  };
}

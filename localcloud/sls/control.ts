// The SLS test controls, under /__localcloud/sls/ (JSON, loopback only, no signature): products'
// logging per member, Logstores, shards, TTL, quotas, writing a batch and reading a Logstore back.
// Faults and latency per SLS action use the common `POST /__localcloud/faults {service: 'sls'}`.

import type { LocalRequest, LocalResponse } from '../core/contracts';
import { decodeLogGroup, encodeLogGroup, type LogContent } from './codec';
import { SlsError } from './errors';
import { HASH_SPACE, parseHashKey, type ShardQuotas, type SlsModel, shardView } from './model';
import type { ProductLogs } from './product-logs';
import { isProductName, PRODUCTS } from './products';

export interface SlsControlDeps {
  model: SlsModel;
  products: ProductLogs;
  region: string;
}

class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function json(status: number, body: unknown): LocalResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body, null, 2),
  };
}

function readJson(req: LocalRequest): Record<string, unknown> {
  if (req.body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.body.toString('utf8'));
  } catch {
    throw new ControlError(400, 'InvalidJson', 'the request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ControlError(400, 'InvalidJson', 'the request body must be a JSON object');
  return parsed as Record<string, unknown>;
}

function requireString(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value === '')
    throw new ControlError(400, 'MissingParameter', `${name} (string) is required`);
  return value;
}

function optionalNumber(body: Record<string, unknown>, name: string): number | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new ControlError(400, 'InvalidParameter', `${name} must be a number`);
  return value;
}

function contentsOf(value: unknown, where: string): LogContent[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ControlError(400, 'InvalidParameter', `${where} must be an object of strings`);
  return Object.entries(value).map(([key, v]) => ({ key, value: String(v) }));
}

/** Answers /__localcloud/sls/...; `segments` are the path parts after `sls`. */
export function handleSlsControl(
  deps: SlsControlDeps,
  req: LocalRequest,
  segments: string[],
): LocalResponse {
  try {
    return route(deps, req, segments);
  } catch (error) {
    if (error instanceof ControlError || error instanceof SlsError)
      return json(error.status, { code: error.code, message: error.message });
    if (error instanceof RangeError)
      return json(400, { code: 'InvalidParameter', message: error.message });
    throw error;
  }
}

function route(deps: SlsControlDeps, req: LocalRequest, segments: string[]): LocalResponse {
  const { model, products } = deps;
  const method = req.method.toUpperCase();
  const region = req.url.searchParams.get('region') ?? deps.region;
  const [first, second, third, fourth, fifth, sixth, seventh] = segments;

  if (first === 'products') {
    if (segments.length === 1 && method === 'GET')
      return json(200, { products: products.list(), known: PRODUCTS });
    if (segments.length === 1 && method === 'POST') {
      const body = readJson(req);
      const product = requireString(body, 'product');
      if (!isProductName(product))
        throw new ControlError(
          400,
          'InvalidParameter',
          `product must be one of ${PRODUCTS.join(', ')}`,
        );
      const logsPerMinute = optionalNumber(body, 'logsPerMinute');
      const productRegion = typeof body.region === 'string' ? body.region : region;
      return json(
        201,
        products.enable(requireString(body, 'accountId'), product, {
          region: productRegion,
          ...(logsPerMinute === undefined ? {} : { logsPerMinute }),
        }),
      );
    }
    if (second && third && segments.length === 3 && method === 'DELETE') {
      if (!isProductName(third))
        throw new ControlError(
          400,
          'InvalidParameter',
          `product must be one of ${PRODUCTS.join(', ')}`,
        );
      return json(200, { disabled: products.disable(second, third, region) });
    }
  }
  if (first === 'tick' && segments.length === 1 && method === 'POST') {
    return json(200, { written: products.tick() });
  }
  if (first === 'quotas' && segments.length === 1) {
    if (method === 'GET') return json(200, model.quotas);
    if (method === 'PUT') {
      const body = readJson(req);
      const next: ShardQuotas = { ...model.quotas };
      for (const key of Object.keys(next) as Array<keyof ShardQuotas>) {
        const value = optionalNumber(body, key);
        if (value !== undefined) {
          if (value <= 0) throw new ControlError(400, 'InvalidParameter', `${key} must be > 0`);
          next[key] = value;
        }
      }
      model.quotas = next;
      return json(200, model.quotas);
    }
  }
  if (first === 'projects') {
    if (segments.length === 1 && method === 'GET') {
      return json(200, {
        projects: model.projects(req.url.searchParams.get('region') ?? undefined).map((p) => ({
          name: p.name,
          region: p.region,
          owner: p.owner,
          logstores: [...p.logstores.keys()].sort(),
        })),
      });
    }
    if (segments.length === 1 && method === 'POST') {
      const body = readJson(req);
      const project = model.createProject({
        region: typeof body.region === 'string' ? body.region : region,
        name: requireString(body, 'name'),
        owner: requireString(body, 'accountId'),
      });
      return json(201, { name: project.name, region: project.region, owner: project.owner });
    }
    if (!second) throw notFound(method, segments);
    const project = model.project(region, second);
    if (segments.length === 2 && method === 'DELETE') {
      model.deleteProject(region, second);
      return json(200, { deleted: true });
    }
    if (third === 'logstores' && segments.length === 3 && method === 'POST') {
      const body = readJson(req);
      const ttl = optionalNumber(body, 'ttl');
      const shardCount = optionalNumber(body, 'shardCount');
      const logstore = model.createLogstore(project, {
        name: requireString(body, 'logstoreName'),
        ...(ttl === undefined ? {} : { ttl }),
        ...(shardCount === undefined ? {} : { shardCount }),
      });
      return json(201, {
        logstoreName: logstore.name,
        shards: model.shards(logstore).map(shardView),
      });
    }
    if (third !== 'logstores' || !fourth) throw notFound(method, segments);
    const logstore = model.logstore(project, fourth);
    if (fifth === 'ttl' && segments.length === 5 && method === 'PUT') {
      const ttl = optionalNumber(readJson(req), 'ttl');
      if (ttl === undefined)
        throw new ControlError(400, 'MissingParameter', 'ttl (days) is required');
      model.setTtl(project, logstore, ttl);
      return json(200, { logstoreName: logstore.name, ttl: logstore.ttl });
    }
    if (fifth === 'shards' && segments.length === 4 + 1 && method === 'GET') {
      return json(200, { shards: model.shards(logstore).map(shardView) });
    }
    if (fifth === 'shards' && sixth !== undefined && segments.length === 7 && method === 'POST') {
      const id = Number(sixth);
      if (seventh === 'split') {
        const body = readJson(req);
        const shard = model.shard(logstore, id);
        let key: bigint | undefined;
        if (typeof body.key === 'string') key = parseHashKey(body.key);
        else key = (shard.begin + (shard.end === HASH_SPACE ? HASH_SPACE : shard.end)) / 2n;
        if (key === undefined) throw new ControlError(400, 'InvalidParameter', 'key must be hex');
        return json(200, { shards: model.splitShard(project, logstore, id, key).map(shardView) });
      }
      if (seventh === 'merge') {
        return json(200, { shards: model.mergeShards(project, logstore, id).map(shardView) });
      }
    }
    if (fifth === 'logs' && segments.length === 5 && method === 'POST') {
      const body = readJson(req);
      const logs = body.logs;
      if (!Array.isArray(logs) || logs.length === 0)
        throw new ControlError(400, 'MissingParameter', 'logs (a non-empty array) is required');
      const nowSeconds = Math.floor(Date.now() / 1000);
      const group = {
        logs: logs.map((log, i) => {
          const record = (typeof log === 'object' && log !== null ? log : {}) as Record<
            string,
            unknown
          >;
          const time = typeof record.time === 'number' ? record.time : nowSeconds;
          return { time, contents: contentsOf(record.contents ?? {}, `logs[${i}].contents`) };
        }),
        ...(typeof body.topic === 'string' ? { topic: body.topic } : {}),
        ...(typeof body.source === 'string' ? { source: body.source } : {}),
        tags: body.tags === undefined ? [] : contentsOf(body.tags, 'tags'),
      };
      const hashKey = typeof body.hashKey === 'string' ? parseHashKey(body.hashKey) : undefined;
      const shard = model.writeShard(logstore, hashKey);
      const stored = model.append(
        project,
        logstore,
        shard,
        {
          bytes: encodeLogGroup(group),
          logCount: group.logs.length,
        },
        { quota: false },
      );
      return json(201, { shardId: shard.id, seq: stored.seq, logCount: stored.logCount });
    }
    if (fifth === 'logs' && segments.length === 5 && method === 'GET') {
      const groups = [];
      for (const { shard, group } of model.retained(logstore)) {
        const decoded = decodeLogGroup(group.bytes);
        groups.push({
          shardId: shard.id,
          seq: group.seq,
          receiveTime: group.receiveTime,
          topic: decoded.topic ?? '',
          source: decoded.source ?? '',
          tags: Object.fromEntries(decoded.tags.map((t) => [t.key, t.value])),
          logs: decoded.logs.map((log) => ({
            time: log.time,
            contents: Object.fromEntries(log.contents.map((c) => [c.key, c.value])),
          })),
        });
      }
      const logCount = groups.reduce((sum, g) => sum + g.logs.length, 0);
      return json(200, { project: project.name, logstore: logstore.name, logCount, groups });
    }
  }
  throw notFound(method, segments);
}

function notFound(method: string, segments: string[]): ControlError {
  return new ControlError(
    404,
    'NotFound',
    `no control operation ${method} /__localcloud/sls/${segments.join('/')}`,
  );
}

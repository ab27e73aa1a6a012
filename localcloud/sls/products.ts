// Cloud products that write logs into a member's own SLS project, with the products' default
// project and Logstore names (Log Service's "Alibaba Cloud service logs" table) and records with
// their documented field names. Each product has a generator that makes realistic records; the
// Bastionhost one plays whole O&M sessions (start, commands / file transfers / SQL / graphical
// events, end) across SSH, RDP, SFTP and database assets, several users and client IPs.
//
// Naming: WAF `waf-project-<uid>-<region>` / `waf-logstore`; Cloud Firewall
// `cloudfirewall-project-<uid>-<region>` / `cloudfirewall-logstore`; Security Center
// `sas-log-<uid>-<region>` / `sas-log`; ActionTrail delivers to a project the customer chooses
// and a Logstore `actiontrail_<trail name>` (localcloud: `actiontrail-<uid>-<region>` /
// `actiontrail_default`); Bastionhost's delivery names are not in that table (localcloud:
// `bastionhost-project-<uid>-<region>` / `bastionhost-audit-logstore`).

import type { LogContent } from './codec';

export const PRODUCTS = ['waf', 'cloudfirewall', 'sas', 'actiontrail', 'bastionhost'] as const;
export type ProductName = (typeof PRODUCTS)[number];

export function isProductName(value: string): value is ProductName {
  return (PRODUCTS as readonly string[]).includes(value);
}

export interface ProductLogRecord {
  /** Epoch seconds. */
  time: number;
  contents: LogContent[];
}

export interface ProductBatch {
  topic: string;
  source: string;
  records: ProductLogRecord[];
}

/** A deterministic random source (mulberry32), seeded per member and product. */
export class SeededRandom {
  /** The whole state: saving and restoring it resumes the same sequence. */
  state: number;
  constructor(seed: string) {
    let h = 1779033703 ^ seed.length;
    for (let i = 0; i < seed.length; i++) {
      h = Math.imul(h ^ seed.charCodeAt(i), 3432918353);
      h = (h << 13) | (h >>> 19);
    }
    this.state = h >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
  hex(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += Math.floor(this.next() * 16).toString(16);
    return out;
  }
  ip(prefix: string): string {
    return `${prefix}.${this.int(1, 254)}.${this.int(1, 254)}`;
  }
}

export interface ProductLayout {
  project: string;
  logstore: string;
  /** Days. */
  ttl: number;
  shardCount: number;
}

export function productLayout(product: ProductName, uid: string, region: string): ProductLayout {
  switch (product) {
    case 'waf':
      return {
        project: `waf-project-${uid}-${region}`,
        logstore: 'waf-logstore',
        ttl: 180,
        shardCount: 2,
      };
    case 'cloudfirewall':
      return {
        project: `cloudfirewall-project-${uid}-${region}`,
        logstore: 'cloudfirewall-logstore',
        ttl: 180,
        shardCount: 2,
      };
    case 'sas':
      return { project: `sas-log-${uid}-${region}`, logstore: 'sas-log', ttl: 180, shardCount: 2 };
    case 'actiontrail':
      return {
        project: `actiontrail-${uid}-${region}`,
        logstore: 'actiontrail_default',
        ttl: 180,
        shardCount: 2,
      };
    case 'bastionhost':
      return {
        project: `bastionhost-project-${uid}-${region}`,
        logstore: 'bastionhost-audit-logstore',
        ttl: 180,
        shardCount: 2,
      };
  }
}

const kv = (record: Record<string, string | number>): LogContent[] =>
  Object.entries(record).map(([key, value]) => ({ key, value: String(value) }));

const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');

export interface GeneratorContext {
  uid: string;
  region: string;
  random: SeededRandom;
}

/** A session the Bastionhost generator has open, as saved across restarts. */
export interface SavedSession {
  id: string;
  user: { id: string; name: string };
  clientIp: string;
  asset: string;
  account: string;
  start: number;
  remaining: number;
}

/** What a generator carries from one batch to the next (JSON), so it resumes after a restart. */
export interface GeneratorState {
  random: number;
  sessions?: SavedSession[];
}

/** Makes `count` records of one product at times spread over [from, to). */
export interface ProductGenerator {
  generate(count: number, from: number, to: number): ProductBatch;
  saveState(): GeneratorState;
  /** Resumes from a saved state (the generator was made with the same seed). */
  loadState(state: GeneratorState): void;
}

/** Save and load for generators whose only state is their random source. */
function randomState(random: SeededRandom): Pick<ProductGenerator, 'saveState' | 'loadState'> {
  return {
    saveState: () => ({ random: random.state }),
    loadState: (state) => {
      random.state = state.random;
    },
  };
}

function spread(count: number, from: number, to: number, index: number): number {
  return Math.floor(from + ((to - from) * index) / Math.max(count, 1));
}

const PATHS = ['/', '/login', '/api/orders', '/api/cart', '/static/app.js', '/admin', '/search'];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15',
  'curl/8.5.0',
  'python-requests/2.31.0',
];

function wafGenerator({ uid, region, random }: GeneratorContext): ProductGenerator {
  const host = `shop-${uid.slice(-4)}.example.com`;
  return {
    ...randomState(random),
    generate(count, from, to) {
      const records: ProductLogRecord[] = [];
      for (let i = 0; i < count; i++) {
        const time = spread(count, from, to, i);
        const blocked = random.next() < 0.08;
        const ip = random.ip('203.0');
        records.push({
          time,
          contents: kv({
            time: iso(time),
            host,
            matched_host: host,
            request_method: random.pick(['GET', 'GET', 'GET', 'POST']),
            request_path: random.pick(PATHS),
            querystring: blocked ? "id=1' or '1'='1" : '',
            status: blocked ? 405 : random.pick([200, 200, 200, 302, 404]),
            real_client_ip: ip,
            src_ip: ip,
            src_port: random.int(1024, 65535),
            user_agent: random.pick(AGENTS),
            http_referer: '-',
            final_action: blocked ? 'block' : 'pass',
            final_plugin: blocked ? 'waf' : '',
            final_rule_id: blocked ? String(random.int(110000, 119999)) : '',
            request_traceid: random.hex(32),
            body_bytes_sent: random.int(200, 48000),
            request_time_msec: random.int(2, 900),
            upstream_status: blocked ? '-' : 200,
            region,
            user_id: uid,
          }),
        });
      }
      return { topic: 'waf_access_log', source: 'waf', records };
    },
  };
}

function cloudFirewallGenerator({ uid, region, random }: GeneratorContext): ProductGenerator {
  const apps = ['HTTPS', 'HTTP', 'SSH', 'DNS', 'MySQL', 'Unknown'];
  return {
    ...randomState(random),
    generate(count, from, to) {
      const records: ProductLogRecord[] = [];
      for (let i = 0; i < count; i++) {
        const time = spread(count, from, to, i);
        const inbound = random.next() < 0.6;
        const app = random.pick(apps);
        const result = random.next() < 0.1 ? 'drop' : 'pass';
        records.push({
          time,
          contents: kv({
            log_type: 'internet_log',
            aliuid: uid,
            region_id: region,
            direction: inbound ? 'in' : 'out',
            src_ip: inbound ? random.ip('198.51') : random.ip('172.16'),
            src_port: random.int(1024, 65535),
            dst_ip: inbound ? random.ip('47.96') : random.ip('203.0'),
            dst_port:
              { HTTPS: 443, HTTP: 80, SSH: 22, DNS: 53, MySQL: 3306, Unknown: 8080 }[app] ?? 0,
            proto: app === 'DNS' ? 'udp' : 'tcp',
            app_name: app,
            rule_result: result,
            acl_rule_id: result === 'drop' ? random.hex(8) : '',
            start_time: time,
            end_time: time + random.int(0, 30),
            in_packet_bytes: random.int(60, 200000),
            out_packet_bytes: random.int(60, 200000),
            in_packet_count: random.int(1, 400),
            out_packet_count: random.int(1, 400),
          }),
        });
      }
      return { topic: 'cloudfirewall_access_log', source: 'cloudfirewall', records };
    },
  };
}

function sasGenerator({ uid, random }: GeneratorContext): ProductGenerator {
  const hosts = Array.from({ length: 4 }, () => ({
    uuid: random.hex(32),
    ip: random.ip('172.16'),
  }));
  return {
    ...randomState(random),
    generate(count, from, to) {
      // One topic per batch, as Security Center ships each log type separately.
      const login = random.next() < 0.5;
      const records: ProductLogRecord[] = [];
      for (let i = 0; i < count; i++) {
        const time = spread(count, from, to, i);
        const host = random.pick(hosts);
        records.push({
          time,
          contents: login
            ? kv({
                uuid: host.uuid,
                ip: host.ip,
                aliuid: uid,
                warn_ip: random.ip('198.51'),
                warn_port: 22,
                warn_user_name: random.pick(['root', 'admin', 'deploy']),
                warn_type: random.pick(['SSHLOGIN', 'RDPLOGIN']),
                warn_count: random.int(1, 5),
                start_time: time,
              })
            : kv({
                uuid: host.uuid,
                ip: host.ip,
                aliuid: uid,
                cmdline: random.pick([
                  '/usr/sbin/sshd -D',
                  'nginx: worker process',
                  'python3 app.py',
                ]),
                path: random.pick(['/usr/sbin/sshd', '/usr/sbin/nginx', '/usr/bin/python3']),
                pid: random.int(100, 60000),
                ppid: random.int(1, 100),
                username: random.pick(['root', 'www-data', 'app']),
                start_time: time,
              }),
        });
      }
      return { topic: login ? 'aegis-log-login' : 'aegis-log-process', source: 'sas', records };
    },
  };
}

function actionTrailGenerator({ uid, region, random }: GeneratorContext): ProductGenerator {
  const calls = [
    ['Ecs', 'ecs.aliyuncs.com', 'DescribeInstances', 'Read'],
    ['Ecs', 'ecs.aliyuncs.com', 'StartInstance', 'Write'],
    ['Oss', 'oss.aliyuncs.com', 'PutObject', 'Write'],
    ['Ram', 'ram.aliyuncs.com', 'CreateUser', 'Write'],
    ['Sts', 'sts.aliyuncs.com', 'AssumeRole', 'Write'],
    ['Vpc', 'vpc.aliyuncs.com', 'DescribeVpcs', 'Read'],
  ] as const;
  return {
    ...randomState(random),
    generate(count, from, to) {
      const records: ProductLogRecord[] = [];
      for (let i = 0; i < count; i++) {
        const time = spread(count, from, to, i);
        const [service, source, name, rw] = random.pick(calls);
        const failed = random.next() < 0.05;
        records.push({
          time,
          contents: kv({
            'event.eventId': `${random.hex(8)}-${random.hex(4)}-${random.hex(4)}-${random.hex(4)}-${random.hex(12)}`,
            'event.eventVersion': 1,
            'event.eventType': 'ApiCall',
            'event.eventCategory': 'Management',
            'event.eventName': name,
            'event.eventSource': source,
            'event.serviceName': service,
            'event.eventRW': rw,
            'event.eventTime': iso(time),
            'event.acsRegion': region,
            'event.requestId': random.hex(8).toUpperCase(),
            'event.sourceIpAddress': random.ip('100.68'),
            'event.userAgent': 'AlibabaCloud (Linux; x64) Terraform/1.7.5',
            'event.userIdentity.type': 'ram-user',
            'event.userIdentity.accountId': uid,
            'event.userIdentity.userName': random.pick(['admin', 'ops', 'ci-deployer']),
            'event.recipientAccountId': uid,
            ...(failed ? { 'event.errorCode': 'Forbidden.RAM' } : {}),
          }),
        });
      }
      return { topic: 'actiontrail_audit_event', source: 'actiontrail', records };
    },
  };
}

interface Asset {
  name: string;
  address: string;
  port: number;
  protocol: 'SSH' | 'RDP' | 'SFTP' | 'MySQL' | 'PostgreSQL';
  accounts: string[];
}

interface OpenSession {
  id: string;
  user: { id: string; name: string };
  clientIp: string;
  asset: Asset;
  account: string;
  start: number;
  remaining: number;
}

const COMMANDS = [
  'ls -la',
  'top -b -n 1',
  'tail -n 200 /var/log/messages',
  'systemctl status nginx',
  'df -h',
  'sudo su -',
  'cat /etc/passwd',
  'kubectl get pods -A',
];
const SQL = [
  'SELECT * FROM orders LIMIT 100',
  'SHOW PROCESSLIST',
  'UPDATE users SET status = 1 WHERE id = 42',
  'DROP TABLE tmp_import',
];
const FILES = [
  '/tmp/backup.tar.gz',
  '/home/deploy/app.jar',
  '/etc/nginx/nginx.conf',
  '/var/log/app/error.log',
];
const GRAPHICAL = [
  'window focus: Server Manager',
  'clipboard copy',
  'window focus: Event Viewer',
  'keyboard input',
  'window focus: PowerShell',
];

/** Bastionhost O&M sessions: each record is one event of a session. */
function bastionhostGenerator({ uid, region, random }: GeneratorContext): ProductGenerator {
  const instanceId = `bastionhost-${region}-${random.hex(12)}`;
  const users = Array.from({ length: 5 }, (_, i) => ({
    id: String(random.int(10, 99) + i * 100),
    name: ['alice', 'bob', 'carol', 'dave', 'erin'][i] as string,
  }));
  const clientIps = Array.from({ length: 4 }, () => random.ip('10.20'));
  const subnet = `192.168.${random.int(1, 250)}`;
  const assets: Asset[] = [
    {
      name: 'web-01',
      address: `${subnet}.11`,
      port: 22,
      protocol: 'SSH',
      accounts: ['root', 'deploy'],
    },
    { name: 'web-02', address: `${subnet}.12`, port: 22, protocol: 'SSH', accounts: ['deploy'] },
    {
      name: 'files-01',
      address: `${subnet}.21`,
      port: 22,
      protocol: 'SFTP',
      accounts: ['sftpuser'],
    },
    {
      name: 'win-jump',
      address: `${subnet}.31`,
      port: 3389,
      protocol: 'RDP',
      accounts: ['Administrator'],
    },
    {
      name: 'orders-db',
      address: `rm-${random.hex(10)}.mysql.rds.aliyuncs.com`,
      port: 3306,
      protocol: 'MySQL',
      accounts: ['app_rw', 'dba'],
    },
    {
      name: 'report-pg',
      address: `pgm-${random.hex(10)}.pg.rds.aliyuncs.com`,
      port: 5432,
      protocol: 'PostgreSQL',
      accounts: ['report_ro'],
    },
  ];
  const open: OpenSession[] = [];

  function eventOf(session: OpenSession): { type: string; content: string; result: string } {
    const protocol = session.asset.protocol;
    if (protocol === 'SSH') {
      const command = random.pick(COMMANDS);
      return {
        type: 'command',
        content: command,
        result: command.startsWith('sudo') && random.next() < 0.3 ? 'blocked' : 'success',
      };
    }
    if (protocol === 'SFTP') {
      return {
        type: 'file_transfer',
        content: `${random.pick(['upload', 'download'])} ${random.pick(FILES)}`,
        result: 'success',
      };
    }
    if (protocol === 'RDP')
      return { type: 'graphical', content: random.pick(GRAPHICAL), result: 'success' };
    const sql = random.pick(SQL);
    return { type: 'sql', content: sql, result: sql.startsWith('DROP') ? 'blocked' : 'success' };
  }

  return {
    saveState: () => ({
      random: random.state,
      sessions: open.map((session) => ({
        id: session.id,
        user: { ...session.user },
        clientIp: session.clientIp,
        asset: session.asset.name,
        account: session.account,
        start: session.start,
        remaining: session.remaining,
      })),
    }),
    loadState(state) {
      random.state = state.random;
      open.length = 0;
      for (const saved of state.sessions ?? []) {
        const asset = assets.find((candidate) => candidate.name === saved.asset);
        if (!asset) continue;
        open.push({ ...saved, user: { ...saved.user }, asset });
      }
    },
    generate(count, from, to) {
      const records: ProductLogRecord[] = [];
      for (let i = 0; i < count; i++) {
        const time = spread(count, from, to, i);
        const base = (session: OpenSession) => ({
          aliuid: uid,
          instance_id: instanceId,
          session_id: session.id,
          user_id: session.user.id,
          user_name: session.user.name,
          client_ip: session.clientIp,
          asset_name: session.asset.name,
          asset_address: session.asset.address,
          asset_port: session.asset.port,
          asset_account: session.account,
          protocol: session.asset.protocol,
          session_start_time: iso(session.start),
          event_time: iso(time),
        });
        if (open.length === 0 || (open.length < 6 && random.next() < 0.2)) {
          const asset = random.pick(assets);
          const session: OpenSession = {
            id: `${random.hex(8)}-${random.hex(4)}-${random.hex(4)}-${random.hex(4)}-${random.hex(12)}`,
            user: random.pick(users),
            clientIp: random.pick(clientIps),
            asset,
            account: random.pick(asset.accounts),
            start: time,
            remaining: random.int(2, 12),
          };
          open.push(session);
          records.push({
            time,
            contents: kv({
              ...base(session),
              event_type: 'session_start',
              content: `${session.asset.protocol} login as ${session.account}`,
              result: 'success',
            }),
          });
          continue;
        }
        const index = random.int(0, open.length - 1);
        const session = open[index] as OpenSession;
        if (session.remaining <= 0) {
          open.splice(index, 1);
          records.push({
            time,
            contents: kv({
              ...base(session),
              event_type: 'session_end',
              content: `duration ${time - session.start}s`,
              result: 'success',
              session_end_time: iso(time),
            }),
          });
          continue;
        }
        session.remaining--;
        const event = eventOf(session);
        records.push({
          time,
          contents: kv({
            ...base(session),
            event_type: event.type,
            content: event.content,
            result: event.result,
          }),
        });
      }
      return { topic: 'bastionhost_audit_log', source: instanceId, records };
    },
  };
}

export function createProductGenerator(
  product: ProductName,
  context: GeneratorContext,
): ProductGenerator {
  switch (product) {
    case 'waf':
      return wafGenerator(context);
    case 'cloudfirewall':
      return cloudFirewallGenerator(context);
    case 'sas':
      return sasGenerator(context);
    case 'actiontrail':
      return actionTrailGenerator(context);
    case 'bastionhost':
      return bastionhostGenerator(context);
  }
}

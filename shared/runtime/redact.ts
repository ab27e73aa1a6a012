// Removes secrets from anything about to be logged. Two nets: by field name (a field called
// accessKeySecret, securityToken, authorization, password, ... is replaced whole) and by value
// shape (a bearer token, a JWT, an STS token or a signature inside a free-text message or stack).

export const REDACTED = '[REDACTED]';

const SECRET_KEY =
  /(secret|password|passwd|token|authorization|signature|credential|cookie|private[-_]?key|^x-acs-security-token$)/i;

/** Field names that look secret-ish but only name or describe something public. */
const PUBLIC_KEYS = new Set(['accesskeyid', 'tokenlookup', 'rolesclaim']);

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) && !PUBLIC_KEYS.has(key.toLowerCase());
}

const VALUE_PATTERNS: Array<[RegExp, string]> = [
  // Authorization: Bearer <token> / Basic <creds>
  [/\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*/g, `$1 ${REDACTED}`],
  // A JWT anywhere (header.payload.signature, base64url, header starts with {" -> eyJ).
  [/\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g, REDACTED],
  // Alibaba Cloud signatures (ACS3 Authorization header, RPC Signature= parameter).
  [/(Signature=)[^,&\s"']+/g, `$1${REDACTED}`],
  // key=value / key: value / "key":"value" forms of secret-bearing names.
  [
    /((?:access_?key_?secret|security_?token|secret|password|passwd|token|x-acs-security-token)["']?\s*[:=]\s*["']?)[^"'\s,&;}]+/gi,
    `$1${REDACTED}`,
  ],
  // STS security tokens start with CAIS and run long.
  [/\bCAIS[A-Za-z0-9+/=_-]{16,}/g, REDACTED],
];

export function redactText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of VALUE_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** A JSON-safe copy of `value` with secrets removed; Errors become {name, message, code, stack}. */
export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'function' || typeof value === 'symbol') return undefined;
    return value;
  }
  if (seen.has(value)) return '[Circular]';
  if (depth > 8) return '[Truncated]';
  seen.add(value);
  try {
    if (value instanceof Error) {
      const out: Record<string, unknown> = { name: value.name, message: redactText(value.message) };
      for (const [k, v] of Object.entries(value)) {
        // SDK errors carry the raw request/response; keep the identifying fields only.
        if (k === 'data' || k === 'request' || k === 'response' || k === 'config') continue;
        out[k] = isSecretKey(k) ? REDACTED : redact(v, depth + 1, seen);
      }
      if (value.stack) out.stack = redactText(value.stack);
      if (value.cause !== undefined) out.cause = redact(value.cause, depth + 1, seen);
      return out;
    }
    if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1, seen));
    if (value instanceof Date) return value.toISOString();
    if (value instanceof Headers) return redact(Object.fromEntries(value), depth, seen);
    if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `[${value.byteLength} bytes]`;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] =
        isSecretKey(k) && v !== undefined && v !== null ? REDACTED : redact(v, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

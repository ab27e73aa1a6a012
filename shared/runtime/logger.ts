// Structured JSON logging: one line per entry with time, level, message, function and requestId,
// plus fields. Everything passes through `redact` first: no credential, token or secret ever
// reaches a log line.

import type { LogLevel } from '../config';
import { redact, redactText } from './redact';

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` (e.g. requestId) to every entry. */
  child(fields: LogFields): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  level?: LogLevel;
  /** Fields on every entry, e.g. { function: 'api' }. */
  fields?: LogFields;
  /** Where lines go; stdout by default (FC ships stdout to SLS). */
  write?: (line: string) => void;
  now?: () => Date;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = options.now ?? (() => new Date());

  const make = (base: LogFields): Logger => {
    const log = (level: LogLevel, message: string, fields?: LogFields) => {
      if (RANK[level] < threshold) return;
      const entry = {
        time: now().toISOString(),
        level,
        message: redactText(message),
        ...(redact(base) as LogFields),
        ...(fields ? (redact(fields) as LogFields) : {}),
      };
      let line: string;
      try {
        line = JSON.stringify(entry);
      } catch {
        line = JSON.stringify({ time: entry.time, level, message: entry.message });
      }
      write(line);
    };
    return {
      debug: (message, fields) => log('debug', message, fields),
      info: (message, fields) => log('info', message, fields),
      warn: (message, fields) => log('warn', message, fields),
      error: (message, fields) => log('error', message, fields),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make(options.fields ?? {});
}

/** Discards everything; for tests that do not look at logs. */
export const silentLogger: Logger = createLogger({ write: () => {} });

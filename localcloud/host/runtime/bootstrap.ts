// Runs inside a function instance (a child process of the host), as FC's Node.js runtime does:
// loads the handler module once (cold start), then runs each invocation it is sent with the
// event as a Buffer and an FC-like context. Kept free of dependencies: it is bundled on its own
// and must start fast.

import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import {
  type HostMessage,
  INIT_FENCE_KEY,
  type InstanceMessage,
  type InvocationContextData,
  OUTPUT_FENCE,
  type SerializedError,
} from './protocol';

type Handler = (event: Buffer, context: unknown, callback?: unknown) => unknown;

let handler: Handler | undefined;

/** Marks the end of a step's output on both streams (pipes: written synchronously on Linux). */
function fence(key: string): void {
  const line = `${OUTPUT_FENCE}${key}\n`;
  process.stdout.write(line);
  process.stderr.write(line);
}

function send(message: InstanceMessage): void {
  fence(message.type === 'result' ? String(message.id) : INIT_FENCE_KEY);
  try {
    process.send?.(message);
  } catch {
    // Values structured clone cannot carry (functions, symbols) travel as their JSON.
    if (message.type === 'result' && message.ok) {
      process.send?.({ ...message, value: JSON.parse(JSON.stringify(message.value ?? null)) });
      return;
    }
    throw new Error('cannot report to the function host');
  }
}

function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    return {
      errorMessage: error.message,
      errorType: error.name || 'Error',
      stackTrace: (error.stack ?? '')
        .split('\n')
        .slice(1)
        .map((line) => line.trim()),
    };
  }
  return { errorMessage: format('%s', error), errorType: typeof error, stackTrace: [] };
}

function makeLogger(requestId: string) {
  const write =
    (level: string, stream: NodeJS.WriteStream) =>
    (...args: unknown[]) => {
      stream.write(`${new Date().toISOString()} ${requestId} [${level}] ${format(...args)}\n`);
    };
  return {
    debug: write('DEBUG', process.stdout),
    info: write('INFO', process.stdout),
    log: write('INFO', process.stdout),
    warn: write('WARN', process.stderr),
    error: write('ERROR', process.stderr),
  };
}

async function init(modulePath: string, exportName: string): Promise<void> {
  const started = performance.now();
  try {
    const loaded = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
    const candidate = loaded[exportName];
    if (typeof candidate !== 'function') {
      throw Object.assign(
        new Error(`${modulePath} does not export a function named ${exportName}`),
        { name: 'HandlerNotFound' },
      );
    }
    handler = candidate as Handler;
    send({ type: 'ready', initMs: performance.now() - started });
  } catch (error) {
    send({ type: 'init-error', error: serializeError(error) });
  }
}

function run(fn: Handler, event: Buffer, context: unknown): Promise<unknown> {
  // Callback-style handlers (event, context, callback) are supported as FC does.
  if (fn.length >= 3) {
    return new Promise((resolve, reject) => {
      const callback = (error: unknown, result: unknown) =>
        error ? reject(error) : resolve(result);
      try {
        const returned = fn(event, context, callback);
        if (returned instanceof Promise) returned.then(resolve, reject);
      } catch (error) {
        reject(error);
      }
    });
  }
  return Promise.resolve().then(() => fn(event, context));
}

async function invoke(id: number, event: Uint8Array, data: InvocationContextData): Promise<void> {
  if (!handler) {
    send({
      type: 'result',
      id,
      ok: false,
      error: { errorMessage: 'handler not loaded', errorType: 'HandlerNotLoaded', stackTrace: [] },
    });
    return;
  }
  const context = { ...data, logger: makeLogger(data.requestId) };
  try {
    const value = await run(
      handler,
      Buffer.from(event.buffer, event.byteOffset, event.length),
      context,
    );
    send({ type: 'result', id, ok: true, value });
  } catch (error) {
    send({ type: 'result', id, ok: false, error: serializeError(error) });
  }
}

process.on('message', (message: HostMessage) => {
  if (message.type === 'init') void init(message.modulePath, message.exportName);
  else if (message.type === 'invoke') void invoke(message.id, message.event, message.context);
});
// The host went away: so does the instance.
process.on('disconnect', () => process.exit(0));

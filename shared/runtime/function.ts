// One FC function, start to finish: at cold start the configuration sections it reads (a
// missing or invalid variable stops the start, naming it), a logger naming the function, and
// what warm invocations reuse (built by shared/wiring); per invocation the FC context and a
// logger carrying the request id. functions/<name>/index.ts is one `defineFunction` call.

import { type Config, type ConfigSectionName, readConfig } from '../config';
import { decodeContext, type Invocation } from './context';
import { type HttpApplication, serveHttpEvent } from './http';
import { createLogger, type Logger } from './logger';

interface ColdStart<N extends ConfigSectionName, Runtime> {
  /** The function's name in log lines (`function` field). */
  name: string;
  /** The configuration sections it reads; `logging` is one of them. */
  config: readonly (N | 'logging')[];
  /** Cold start: what warm invocations reuse (clients, caches, the application). */
  start(config: Config<N | 'logging'>, logger: Logger): Runtime;
}

/** A function of an event or timer trigger, or of asynchronous invocation. */
export interface FunctionDefinition<N extends ConfigSectionName, Runtime, Result>
  extends ColdStart<N, Runtime> {
  /** One invocation, with its decoded context and a logger carrying its request id. */
  invoke(event: unknown, invocation: Invocation, runtime: Runtime, logger: Logger): Promise<Result>;
}

/** A function of an HTTP trigger: `start` builds the application every request runs in. */
export type HttpFunctionDefinition<N extends ConfigSectionName> = ColdStart<N, HttpApplication> & {
  trigger: 'http';
};

export type FcHandler<Result> = (event: Buffer, context: unknown) => Promise<Result>;

function coldStart<N extends ConfigSectionName, Runtime>(definition: ColdStart<N, Runtime>) {
  const config = readConfig(definition.config);
  const logger = createLogger({
    level: config.logging.level,
    fields: { function: definition.name },
  });
  return { logger, runtime: definition.start(config, logger) };
}

export function defineFunction<N extends ConfigSectionName>(
  definition: HttpFunctionDefinition<N>,
): FcHandler<Awaited<ReturnType<typeof serveHttpEvent>>>;
export function defineFunction<N extends ConfigSectionName, Runtime, Result>(
  definition: FunctionDefinition<N, Runtime, Result>,
): FcHandler<Result>;
export function defineFunction<N extends ConfigSectionName, Runtime, Result>(
  definition: HttpFunctionDefinition<N> | FunctionDefinition<N, Runtime, Result>,
): FcHandler<unknown> {
  if ('trigger' in definition) {
    const { runtime: app, logger } = coldStart(definition);
    // The HTTP runner decodes the context itself: a malformed one still gets an error envelope.
    return (event, context) => serveHttpEvent(app, event, context, logger);
  }
  const { runtime, logger } = coldStart(definition);
  return async (event, context) => {
    const invocation = decodeContext(context);
    return definition.invoke(
      event,
      invocation,
      runtime,
      logger.child({ requestId: invocation.requestId }),
    );
  };
}

// The FC 3.0 invocation context, validated. FC hands each invocation the credentials of the
// function's role (rotated by the platform), so adapters take them from here per invocation.

import { z } from 'zod';

const credentialsSchema = z.object({
  accessKeyId: z.string().min(1),
  accessKeySecret: z.string().min(1),
  securityToken: z.string().optional(),
});

export type CloudCredentials = z.infer<typeof credentialsSchema>;

const contextSchema = z.looseObject({
  requestId: z.string().min(1),
  // Absent when the function has no role configured.
  credentials: credentialsSchema.optional(),
  function: z
    .looseObject({
      name: z.string().min(1),
      handler: z.string().optional(),
      memory: z.number().optional(),
      timeout: z.number().optional(),
    })
    .optional(),
  region: z.string().optional(),
  accountId: z.string().optional(),
});

export interface Invocation {
  requestId: string;
  functionName: string;
  region: string;
  /** The account the function runs in (the administrator account). */
  accountId: string;
  /** The function role's temporary credentials; undefined when the function has no role. */
  credentials: CloudCredentials | undefined;
  /** The function's timeout (FC's context.function.timeout), when FC says it. */
  timeoutSeconds?: number;
}

export class InvalidInvocationContext extends Error {
  override readonly name = 'InvalidInvocationContext';
}

/**
 * Reads the FC context. `env` supplies what FC also publishes as environment variables
 * (FC_FUNCTION_NAME, FC_REGION, FC_ACCOUNT_ID) when the context object lacks it.
 */
export function decodeContext(
  context: unknown,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Invocation {
  const parsed = contextSchema.safeParse(context);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || 'context'}: ${issue.message}`)
      .join('; ');
    throw new InvalidInvocationContext(`The FC invocation context is malformed: ${problems}`);
  }
  const c = parsed.data;
  return {
    requestId: c.requestId,
    functionName: c.function?.name ?? env.FC_FUNCTION_NAME ?? 'unknown',
    region: c.region ?? env.FC_REGION ?? 'unknown',
    accountId: c.accountId ?? env.FC_ACCOUNT_ID ?? 'unknown',
    credentials: c.credentials,
    ...(c.function?.timeout !== undefined ? { timeoutSeconds: c.function.timeout } : {}),
  };
}

// Function Compute's rules for a function's environment variables, as the local host enforces
// them on s.yaml's `environmentVariables` (what `s deploy` would send). FC refuses a function
// that breaks them, so `npm start` refuses it too rather than run what could not be deployed.
//
// FC's "Configure environment variables" page: a key starts with a letter and holds only
// letters, digits and underscores; keys with the reserved prefix FC_ cannot be set; all of a
// function's variables together cannot exceed 4 KB. The page does not say how the 4 KB are
// counted; the host counts the UTF-8 bytes of the variables as the API receives them, the JSON
// object `{"KEY":"value",...}`, which is at least as large as any other reasonable count (keys
// plus values), so what passes here passes FC.
// The variables FC itself adds at run time (FC_REGION, FC_FUNCTION_NAME, ...) are not checked:
// the host adds those after this check, as FC does.

export const ENVIRONMENT_KEY_PATTERN = /^[A-Za-z][A-Za-z0-9_]*$/;
export const RESERVED_ENVIRONMENT_PREFIX = 'FC_';
export const MAX_ENVIRONMENT_BYTES = 4096;

export class FunctionEnvironmentError extends Error {
  override readonly name = 'FunctionEnvironmentError';
  constructor(
    readonly functionName: string,
    readonly variable: string,
    reason: string,
  ) {
    super(`${functionName}: environment variable ${variable} ${reason}`);
  }
}

/** The size FC's 4 KB limit is checked against: UTF-8 bytes of the variables as JSON. */
export function environmentBytes(variables: Readonly<Record<string, string>>): number {
  return Buffer.byteLength(JSON.stringify(variables), 'utf8');
}

/** Throws a FunctionEnvironmentError naming the function and the first variable FC refuses. */
export function checkFunctionEnvironment(
  functionName: string,
  variables: Readonly<Record<string, string>>,
): void {
  for (const key of Object.keys(variables)) {
    if (key.startsWith(RESERVED_ENVIRONMENT_PREFIX)) {
      throw new FunctionEnvironmentError(
        functionName,
        key,
        `uses the prefix ${RESERVED_ENVIRONMENT_PREFIX}, which Function Compute reserves for its own variables and refuses in a function's configuration; rename it in s.yaml`,
      );
    }
    if (!ENVIRONMENT_KEY_PATTERN.test(key)) {
      throw new FunctionEnvironmentError(
        functionName,
        key,
        'is not a name Function Compute accepts: it must start with a letter and hold only letters, digits and underscores',
      );
    }
  }
  const total = environmentBytes(variables);
  if (total > MAX_ENVIRONMENT_BYTES) {
    const largest = Object.entries(variables).reduce<[string, number]>(
      (best, [key, value]) => {
        const size = Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8');
        return size > best[1] ? [key, size] : best;
      },
      ['', -1],
    );
    throw new FunctionEnvironmentError(
      functionName,
      largest[0],
      `(${largest[1]} bytes, the largest) takes the function's environment variables to ${total} bytes, over Function Compute's limit of ${MAX_ENVIRONMENT_BYTES} bytes (4 KB) per function`,
    );
  }
}

// The benchmarks' command-line options (`npm run bench <name> -- --flag value`), read one way:
// every option is `--name value`, lists are comma-separated, and a bad value stops the bench
// with a message naming the option and what it takes.

export class BenchArgs {
  constructor(private readonly argv: readonly string[] = process.argv.slice(2)) {}

  /** The value after `flag`, or undefined when the flag is absent. */
  text(flag: string): string | undefined {
    const i = this.argv.indexOf(flag);
    return i === -1 ? undefined : this.argv[i + 1];
  }

  /** Whether the switch `flag` (no value) is present. */
  has(flag: string): boolean {
    return this.argv.includes(flag);
  }

  /** An integer of at least `min`. */
  integer(flag: string, fallback: number, min: number): number {
    const value = Number(this.text(flag) ?? fallback);
    if (!Number.isInteger(value) || value < min) {
      throw new Error(`${flag} must be an integer >= ${min}`);
    }
    return value;
  }

  /** A number above zero, e.g. milliseconds. */
  positive(flag: string, fallback: number): number {
    const value = Number(this.text(flag) ?? fallback);
    if (!(value > 0)) throw new Error(`${flag} must be a number > 0`);
    return value;
  }

  /** A comma-separated list of integers, each at least `min`. */
  integers(flag: string, fallback: readonly number[], min: number): number[] {
    const text = this.text(flag);
    const values = text === undefined ? [...fallback] : text.split(',').map(Number);
    if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < min)) {
      throw new Error(`${flag} must be a comma-separated list of integers >= ${min}`);
    }
    return values;
  }
}

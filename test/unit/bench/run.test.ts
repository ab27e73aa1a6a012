// test/bench/run.ts: which words name benchmarks and which go to them, as npm passes them on.

import { describe, expect, it } from 'vitest';
import { splitArguments } from '../../bench/run';

describe('npm run bench arguments', () => {
  it('names first; from the first flag on, everything goes to the benchmarks, values included', () => {
    expect(splitArguments(['sessions', '--sessions', '1000', '--samples', '5'])).toEqual({
      names: ['sessions'],
      passThrough: ['--sessions', '1000', '--samples', '5'],
    });
  });

  it('a `--` after the names is dropped, and what follows it is passed on as it is', () => {
    expect(splitArguments(['sessions', 'startup', '--', '--runs', '3'])).toEqual({
      names: ['sessions', 'startup'],
      passThrough: ['--runs', '3'],
    });
  });

  it('names alone run with no arguments; no names run every benchmark', () => {
    expect(splitArguments(['startup'])).toEqual({ names: ['startup'], passThrough: [] });
    expect(splitArguments(['--runs', '2'])).toEqual({ names: [], passThrough: ['--runs', '2'] });
  });
});

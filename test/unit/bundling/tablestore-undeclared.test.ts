// The tablestore SDK assigns variables it never declares, which throws in a strict ES module
// bundle. The bundle recipe declares them (bundling/function-bundle.ts); this finds them with the TypeScript
// checker so that the list stays complete when the SDK changes.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { TABLESTORE_UNDECLARED } from '../../../bundling/function-bundle';

const require = createRequire(import.meta.url);
const libDir = join(dirname(require.resolve('tablestore/package.json')), 'lib');

describe('tablestore SDK in a function bundle', () => {
  it('every variable the SDK uses undeclared is declared by the build', () => {
    const program = ts.createProgram({
      rootNames: ts.sys
        .readDirectory(libDir, ['.js'])
        // Only loaded in browsers.
        .filter((file) => !file.endsWith('util-browser.js')),
      options: { allowJs: true, checkJs: true, noEmit: true, types: [], skipLibCheck: true },
    });
    const undeclared = new Set<string>();
    for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
      if (diagnostic.code !== 2304) continue; // Cannot find name 'x'.
      const match = /Cannot find name '([^']+)'/.exec(
        ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'),
      );
      if (match?.[1]) undeclared.add(match[1]);
    }
    expect(undeclared.size).toBeGreaterThan(0);
    expect([...undeclared].sort()).toEqual([...TABLESTORE_UNDECLARED].sort());
  }, 60_000);
});

// Builds each function from its TypeScript sources with the same esbuild recipe as
// `npm run build` (bundling/function-bundle.ts), into a build directory private to this host. In watch mode esbuild rebuilds
// when any source the bundle was made from changes, and the host is told only when the output
// actually differs, so saving an unchanged file restarts nothing.

import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildContext, type BuildResult, build, context, type Message } from 'esbuild';
import { functionBundleOptions } from '../../bundling/function-bundle';
import type { FunctionSpec } from './s-yaml';

export type BuildState =
  | { ok: true; bundlePath: string; version: number }
  | { ok: false; error: string; version: number };

function describe(messages: Message[]): string {
  return messages
    .slice(0, 5)
    .map((m) => {
      const where = m.location
        ? `${m.location.file}:${m.location.line}:${m.location.column}: `
        : '';
      return `${where}${m.text}`;
    })
    .join('\n');
}

export class FunctionBuilder {
  private ctx: BuildContext | undefined;
  private lastHash: string | undefined;
  private version = 0;
  state: BuildState = { ok: false, error: 'not built yet', version: 0 };

  constructor(
    private readonly fn: FunctionSpec,
    private readonly outDir: string,
    /** Called after each build whose output differs from the previous one, or that failed. */
    private readonly onBuild: (state: BuildState) => void,
  ) {}

  get bundlePath(): string {
    return join(this.outDir, this.fn.name, `${this.fn.handlerModule}.mjs`);
  }

  /** First build; in watch mode keeps rebuilding on source changes until `stop`. */
  async start(watch: boolean): Promise<BuildState> {
    const entry = this.fn.sourceEntry;
    if (!entry) {
      throw new Error(
        `function ${this.fn.name}: no source found for code ${this.fn.codeDir} (expected functions/${this.fn.name}/${this.fn.handlerModule}.ts beside s.yaml)`,
      );
    }
    const options = { ...functionBundleOptions(entry, this.bundlePath), write: false };
    if (!watch) {
      try {
        this.accept(await build(options));
      } catch (error) {
        this.fail(error);
      }
      return this.state;
    }
    this.ctx = await context({
      ...options,
      plugins: [
        ...(options.plugins ?? []),
        {
          name: 'localcloud-host-reload',
          setup: (b) => {
            b.onEnd((result) => {
              if (result.errors.length > 0) this.fail(result.errors);
              else this.accept(result);
            });
          },
        },
      ],
    });
    try {
      await this.ctx.rebuild();
    } catch {
      // Reported through onEnd; the watcher keeps going so a fix is picked up.
    }
    await this.ctx.watch();
    return this.state;
  }

  private accept(result: BuildResult): void {
    const files = result.outputFiles ?? [];
    const hash = createHash('sha256');
    for (const file of files) hash.update(file.path).update(file.contents);
    const digest = hash.digest('hex');
    if (digest === this.lastHash && this.state.ok) return;
    for (const file of files) {
      mkdirSync(dirname(file.path), { recursive: true });
      writeFileSync(file.path, file.contents);
    }
    this.lastHash = digest;
    this.state = { ok: true, bundlePath: this.bundlePath, version: ++this.version };
    this.onBuild(this.state);
  }

  private fail(error: unknown): void {
    const messages = Array.isArray(error)
      ? (error as Message[])
      : ((error as { errors?: Message[] }).errors ?? []);
    const text = messages.length > 0 ? describe(messages) : String(error);
    // A failed rebuild keeps serving the last good bundle; only a function that never built fails.
    if (!this.state.ok) this.state = { ok: false, error: text, version: ++this.version };
    this.onBuild({ ok: false, error: text, version: this.version });
  }

  async stop(): Promise<void> {
    await this.ctx?.dispose();
    this.ctx = undefined;
  }
}

/** The instance bootstrap, compiled once per host into its build directory. */
export async function buildBootstrap(outDir: string): Promise<string> {
  const entry = fileURLToPath(new URL('./runtime/bootstrap.ts', import.meta.url));
  const outfile = join(outDir, 'bootstrap.mjs');
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'silent',
  });
  return outfile;
}

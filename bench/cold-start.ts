/**
 * Benchmark 3: cold start per function. Each handler is bundled exactly as template.yaml's SAM
 * esbuild BuildMethod does (bundle, minify, platform node, format esm, target es2024, main fields
 * module,main, .mjs, external source map); the size is the .mjs without its map. Initialisation is
 * the wall time of a fresh `node --input-type=module -e "await import('<bundle>')"` with the
 * function's environment, minus a bare `node -e 0` (median of RUNS each, interleaved so that noise
 * hits both alike). Runs in its own process; bundles go to a temporary directory.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { median, round, writeResult } from './support/stats.ts';

const RUNS = 20;
const root = resolve(import.meta.dirname, '..');

export const FUNCTIONS = ['router', 'projector', 'heartbeat'] as const;

/**
 * The packages template.yaml leaves to the Lambda runtime (`External` in each function's
 * BuildProperties), read from the template so the bench measures what `sam build` ships.
 */
export function templateExternals(): string[] {
  const template = readFileSync(join(root, 'template.yaml'), 'utf8');
  const lists = [...template.matchAll(/^\s*External:\s*\[(.*)\]\s*$/gm)].map((m) =>
    (m[1] ?? '').split(',').map((entry) => entry.trim().replace(/^['"]|['"]$/g, '')),
  );
  const first = lists[0] ?? [];
  if (lists.some((list) => list.join() !== first.join())) throw new Error('functions differ in External');
  return first;
}
export type FunctionName = (typeof FUNCTIONS)[number];

/** What each function's configuration needs at cold start (values are never contacted at init). */
const ENVIRONMENT: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  STAGE: 'bench',
  EVENT_LOG_TABLE: 'RoutingLog-bench',
  CREDITS_TABLE: 'Credits-bench',
  EFFECTS_TABLE: 'RoutingEffects-bench',
  JOBS_TABLE: 'Jobs-bench',
  CONTENT_TABLE: 'RoutingContent-bench',
  PROVIDER_HEALTH_TABLE: 'ProviderHealth-bench',
  FAL_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/FalJobQueue-bench',
  REPLICATE_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/ReplicateJobQueue-bench',
  EVENT_BUS_NAME: 'default',
  POWERTOOLS_SERVICE_NAME: 'routing-manager-bench',
  POWERTOOLS_METRICS_NAMESPACE: 'RoutingManager',
  LOG_LEVEL: 'INFO',
};

export interface ColdStartEntry {
  readonly bundleBytes: number;
  readonly mapBytes: number;
  /** Init overhead over a bare node, ms (median); without and with --enable-source-maps (template.yaml sets it). */
  readonly initMs: number;
  readonly initMsWithSourceMaps: number;
  readonly imported: boolean;
  readonly importError: string | null;
  /** Largest contributors to the bundle, by package (bytes in the minified output). */
  readonly topPackages: ReadonlyArray<readonly [string, number]>;
  /** What-if: bytes with @aws-sdk/* and @smithy/* left to the runtime's bundled SDK (External). */
  readonly bundleBytesSdkExternal: number;
  /** Of initMs: importing only the bundle's external packages (the runtime-provided SDK), ms. */
  readonly externalsInitMs: number;
}

export interface ColdStartResult {
  readonly runs: number;
  readonly bareNodeMs: number;
  readonly functions: Record<FunctionName, ColdStartEntry>;
}

function packageOf(input: string): string {
  const parts = input.split('node_modules/');
  if (parts.length < 2) return input.startsWith('src/') ? 'src (this project)' : input;
  const rest = (parts[parts.length - 1] as string).split('/');
  return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] as string);
}

function topPackages(metafile: Metafile): Array<[string, number]> {
  const byPackage = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = packageOf(input);
      byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 8);
}

/** Bundles one handler as template.yaml's SAM esbuild BuildMethod does; returns the .mjs path. */
export async function bundleHandler(
  name: FunctionName,
  outdir: string,
  external: string[] = [],
): Promise<{ metafile: Metafile }> {
  const built = await build({
    external,
    entryPoints: [join(root, 'src/lambda', `${name}.ts`)],
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'esm',
    target: 'es2024',
    mainFields: ['module', 'main'],
    sourcemap: true,
    outExtension: { '.js': '.mjs' },
    outdir,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: root,
  });
  return { metafile: built.metafile };
}

function wallMs(args: string[]): { ms: number; ok: boolean; stderr: string } {
  const start = performance.now();
  const run = spawnSync(process.execPath, args, {
    env: { ...process.env, ...ENVIRONMENT },
    encoding: 'utf8',
  });
  return { ms: performance.now() - start, ok: run.status === 0, stderr: run.stderr };
}

export async function runColdStart(): Promise<ColdStartResult> {
  // Inside the project, so the externals resolve from node_modules as they do from the runtime's.
  const outdir = mkdtempSync(join(root, 'bench', '.build-'));
  const external = templateExternals();
  try {
    const bundles = {} as Record<FunctionName, { file: string; metafile: Metafile }>;
    for (const name of FUNCTIONS) {
      const built = await bundleHandler(name, outdir, external);
      bundles[name] = { file: join(outdir, `${name}.mjs`), metafile: built.metafile };
    }
    // The external imports of each bundle, alone: what loading the runtime's SDK costs at init.
    for (const name of FUNCTIONS) {
      const imports = new Set<string>();
      for (const output of Object.values(bundles[name].metafile.outputs)) {
        for (const imported of output.imports) if (imported.external) imports.add(imported.path);
      }
      writeFileSync(
        join(outdir, `${name}-externals.mjs`),
        [...imports].map((path) => `import ${JSON.stringify(path)};`).join('\n'),
      );
    }
    const externalDir = join(outdir, 'sdk-external');
    for (const name of FUNCTIONS) await bundleHandler(name, externalDir, ['@aws-sdk/*', '@smithy/*']);

    const importArgs = (file: string, sourceMaps: boolean) => [
      ...(sourceMaps ? ['--enable-source-maps'] : []),
      '--input-type=module',
      '-e',
      `await import(${JSON.stringify(pathToFileURL(file).href)})`,
    ];
    const bare: number[] = [];
    const samples = Object.fromEntries(
      FUNCTIONS.map((n) => [n, { plain: [] as number[], maps: [] as number[], externals: [] as number[] }]),
    );
    const errors = new Map<FunctionName, string>();
    for (let i = 0; i < RUNS; i++) {
      bare.push(wallMs(['-e', '0']).ms);
      for (const name of FUNCTIONS) {
        const { file } = bundles[name];
        const plain = wallMs(importArgs(file, false));
        const maps = wallMs(importArgs(file, true));
        if (!plain.ok) errors.set(name, plain.stderr.trim().split('\n').slice(-3).join(' '));
        samples[name]?.plain.push(plain.ms);
        samples[name]?.externals.push(wallMs(importArgs(join(outdir, `${name}-externals.mjs`), false)).ms);
        samples[name]?.maps.push(maps.ms);
      }
    }
    const bareNodeMs = median(bare);
    const functions = Object.fromEntries(
      FUNCTIONS.map((name) => {
        const { file, metafile } = bundles[name];
        const s = samples[name] as { plain: number[]; maps: number[]; externals: number[] };
        const entry: ColdStartEntry = {
          bundleBytes: statSync(file).size,
          mapBytes: statSync(`${file}.map`).size,
          initMs: round(median(s.plain) - bareNodeMs, 1),
          initMsWithSourceMaps: round(median(s.maps) - bareNodeMs, 1),
          imported: !errors.has(name),
          importError: errors.get(name) ?? null,
          topPackages: topPackages(metafile),
          bundleBytesSdkExternal: statSync(join(outdir, 'sdk-external', `${name}.mjs`)).size,
          externalsInitMs: round(median(s.externals) - bareNodeMs, 1),
        };
        return [name, entry];
      }),
    ) as Record<FunctionName, ColdStartEntry>;
    return { runs: RUNS, bareNodeMs: round(bareNodeMs, 1), functions };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

if (import.meta.main) writeResult(await runColdStart());

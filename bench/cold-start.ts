/**
 * Benchmark 3: cold start per function. Each handler is bundled exactly as template.yaml's SAM
 * esbuild BuildMethod does, with the function's own BuildProperties read from the template
 * (EntryPoints, Format, Splitting, OutExtension, Target, MainFields, Minify, External, Sourcemap,
 * SourcesContent); the size is
 * the output without its map. Initialisation is the wall time of a fresh
 * `node --input-type=module -e "await import('<bundle>')"` with the function's environment, minus a
 * bare `node -e 0` (median of RUNS each, interleaved so that noise hits both alike). The naive
 * minimal handler (bench/baseline/naive-minimal-handler.ts: middy + the DynamoDB document client,
 * SDK bundled, minified ESM) is measured in the same loop, and each function's init is reported as
 * a ratio to it. Runs in its own process; bundles go to a temporary directory.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { readTemplate } from '../src/template/cloudformation-template.ts';
import { median, round, writeResult } from './support/stats.ts';

const RUNS = 20;
const root = resolve(import.meta.dirname, '..');

export const FUNCTIONS = ['router', 'projector', 'heartbeat'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

const RESOURCES: Record<FunctionName, string> = {
  router: 'RouterFunction',
  projector: 'ProjectorFunction',
  heartbeat: 'HeartbeatFunction',
};

/** The SDK packages: left out of the "our code" size figure (what the runtime could provide). */
const SDK_PACKAGES = ['@aws-sdk/*', '@smithy/*', '@aws-crypto/*'];

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
  CONTENT_KMS_KEY_ID: 'arn:aws:kms:us-east-1:123456789012:key/content-bench',
  PAYLOAD_HASH_KMS_KEY_ID: 'arn:aws:kms:us-east-1:123456789012:key/payload-hash-bench',
  PROVIDER_HEALTH_TABLE: 'ProviderHealth-bench',
  FAL_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/FalJobQueue-bench',
  REPLICATE_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/ReplicateJobQueue-bench',
  EVENT_BUS_NAME: 'default',
  POWERTOOLS_SERVICE_NAME: 'routing-manager-bench',
  POWERTOOLS_METRICS_NAMESPACE: 'RoutingManager',
  LOG_LEVEL: 'INFO',
};

export interface ColdStartEntry {
  /** What `sam build` ships: every output file (entry and chunks), without the maps. */
  readonly bundleBytes: number;
  /** Of it, what the import reads at init: the entry and the chunks it imports statically. */
  readonly initBytes?: number;
  readonly mapBytes: number;
  /** Init overhead over a bare node, ms (median); without and with --enable-source-maps (template.yaml sets it). */
  readonly initMs: number;
  readonly initMsWithSourceMaps: number;
  /** initMs ÷ the naive minimal handler's initMs, same run; and the same with source maps on both. */
  readonly initRatioToNaive?: number;
  readonly initRatioToNaiveWithSourceMaps?: number;
  readonly imported: boolean;
  readonly importError: string | null;
  /** Largest contributors to the bundle, by package (bytes in the minified output). */
  readonly topPackages: ReadonlyArray<readonly [string, number]>;
  /** Our code alone: all output bytes with the AWS SDK (@aws-sdk/*, @smithy/*, …) left out (External). */
  readonly bundleBytesSdkExternal: number;
  /** Of initMs: importing only the bundle's external packages (a runtime-provided SDK), ms. */
  readonly externalsInitMs: number;
}

export interface ColdStartResult {
  readonly runs: number;
  readonly bareNodeMs: number;
  readonly functions: Record<FunctionName, ColdStartEntry>;
  /** The naive minimal handler (bench/baseline/naive-minimal-handler.ts), SDK bundled. */
  readonly naive?: {
    readonly bundleBytes: number;
    readonly initMs: number;
    readonly initMsWithSourceMaps: number;
  };
  /** The esbuild settings template.yaml gives the functions, e.g. "esm, SDK bundled". */
  readonly build?: string;
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

/** Bytes of every JavaScript output (chunks included, maps not). */
function outputBytes(metafile: Metafile): number {
  return Object.entries(metafile.outputs)
    .filter(([path]) => !path.endsWith('.map'))
    .reduce((sum, [, output]) => sum + output.bytes, 0);
}

/** Bytes of the entry output and every chunk it imports statically: what `import(entry)` reads. */
function initBytesOf(metafile: Metafile, file: string): number {
  const outputs = metafile.outputs;
  const seen = new Set<string>();
  const pending = [relative(root, file)];
  while (pending.length > 0) {
    const path = pending.pop() as string;
    if (seen.has(path)) continue;
    seen.add(path);
    for (const imported of outputs[path]?.imports ?? []) {
      if (!imported.external && imported.kind === 'import-statement') pending.push(imported.path);
    }
  }
  return [...seen].reduce((sum, path) => sum + (outputs[path]?.bytes ?? 0), 0);
}

type BuildProperties = Record<string, unknown>;

/** The function's SAM esbuild BuildProperties and handler module name (`router`), from template.yaml. */
export function samBuildOf(name: FunctionName): { properties: BuildProperties; module: string } {
  const resource = readTemplate().Resources[RESOURCES[name]];
  const properties = (resource?.Metadata?.BuildProperties ?? {}) as BuildProperties;
  const handler = String(resource?.Properties?.Handler ?? `${name}.handler`);
  return { properties, module: handler.slice(0, handler.lastIndexOf('.')) };
}

/** esbuild options equivalent to SAM's for these BuildProperties (sam build passes them as flags). */
export function esbuildOptionsOf(properties: BuildProperties): BuildOptions {
  const list = (key: string) => (properties[key] as string[] | undefined) ?? [];
  const [from = '.js', to = '.js'] = String(list('OutExtension')[0] ?? '.js=.js').split('=');
  return {
    entryPoints: list('EntryPoints').map((entry) => join(root, 'src', entry)),
    bundle: true,
    minify: properties.Minify === true,
    platform: (properties.Platform as BuildOptions['platform']) ?? 'node',
    format: (properties.Format as BuildOptions['format']) ?? 'cjs',
    target: String(properties.Target ?? 'es2020'),
    mainFields: String(properties.MainFields ?? 'main').split(','),
    splitting: properties.Splitting === true,
    sourcemap: properties.Sourcemap === true,
    sourcesContent: String(properties.SourcesContent ?? 'true') !== 'false',
    outExtension: { [from]: to },
    external: list('External'),
  };
}

/** Bundles one handler as `sam build` does; returns the bundle's path and metafile. */
export async function bundleHandler(
  name: FunctionName,
  outdir: string,
  overrides: Partial<BuildOptions> = {},
): Promise<{ file: string; metafile: Metafile; external: readonly string[] }> {
  const { properties, module } = samBuildOf(name);
  const options = { ...esbuildOptionsOf(properties), ...overrides };
  const built = await build({ ...options, outdir, metafile: true, logLevel: 'silent', absWorkingDir: root });
  const extension = options.outExtension?.['.js'] ?? '.js';
  return {
    file: join(outdir, `${module}${extension}`),
    metafile: built.metafile,
    external: options.external ?? [],
  };
}

/** The naive reference: SDK bundled, minified ESM, as a plain SAM TypeScript project builds it. */
async function bundleNaive(outdir: string): Promise<string> {
  await build({
    entryPoints: [join(root, 'bench/baseline/naive-minimal-handler.ts')],
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'esm',
    target: 'es2024',
    mainFields: ['module', 'main'],
    sourcemap: true,
    outExtension: { '.js': '.mjs' },
    outdir,
    logLevel: 'silent',
    absWorkingDir: root,
  });
  return join(outdir, 'naive-minimal-handler.mjs');
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
  // Inside the project, so any externals resolve from node_modules as they do from the runtime's.
  const outdir = mkdtempSync(join(root, 'bench', '.build-'));
  try {
    const bundles = {} as Record<FunctionName, { file: string; metafile: Metafile }>;
    for (const name of FUNCTIONS) bundles[name] = await bundleHandler(name, join(outdir, name));
    // The external imports of each bundle, alone: what loading a runtime-provided SDK costs at init.
    for (const name of FUNCTIONS) {
      const imports = new Set<string>();
      for (const output of Object.values(bundles[name].metafile.outputs)) {
        for (const imported of output.imports) {
          if (imported.external && !imported.path.startsWith('node:')) imports.add(imported.path);
        }
      }
      writeFileSync(
        join(outdir, `${name}-externals.mjs`),
        [...imports].map((path) => `import ${JSON.stringify(path)};`).join('\n'),
      );
    }
    const externalDir = join(outdir, 'sdk-external');
    const ourCode = {} as Record<FunctionName, number>;
    for (const name of FUNCTIONS) {
      const built = await bundleHandler(name, join(externalDir, name), { external: SDK_PACKAGES });
      ourCode[name] = outputBytes(built.metafile);
    }
    const naive = await bundleNaive(join(outdir, 'naive'));

    const importArgs = (file: string, sourceMaps: boolean) => [
      ...(sourceMaps ? ['--enable-source-maps'] : []),
      '--input-type=module',
      '-e',
      `await import(${JSON.stringify(pathToFileURL(file).href)})`,
    ];
    const bare: number[] = [];
    const naiveSamples = { plain: [] as number[], maps: [] as number[] };
    const samples = Object.fromEntries(
      FUNCTIONS.map((n) => [n, { plain: [] as number[], maps: [] as number[], externals: [] as number[] }]),
    );
    const errors = new Map<FunctionName | 'naive', string>();
    for (let i = 0; i < RUNS; i++) {
      bare.push(wallMs(['-e', '0']).ms);
      const naivePlain = wallMs(importArgs(naive, false));
      if (!naivePlain.ok) errors.set('naive', naivePlain.stderr.trim().split('\n').slice(-3).join(' '));
      naiveSamples.plain.push(naivePlain.ms);
      naiveSamples.maps.push(wallMs(importArgs(naive, true)).ms);
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
    if (errors.has('naive')) throw new Error(`naive reference failed to import: ${errors.get('naive')}`);
    const bareNodeMs = median(bare);
    const naiveInitMs = median(naiveSamples.plain) - bareNodeMs;
    const naiveInitMsWithSourceMaps = median(naiveSamples.maps) - bareNodeMs;
    const functions = Object.fromEntries(
      FUNCTIONS.map((name) => {
        const { file, metafile } = bundles[name];
        const s = samples[name] as { plain: number[]; maps: number[]; externals: number[] };
        const initMs = median(s.plain) - bareNodeMs;
        const initMsWithSourceMaps = median(s.maps) - bareNodeMs;
        const entry: ColdStartEntry = {
          bundleBytes: outputBytes(metafile),
          initBytes: initBytesOf(metafile, file),
          mapBytes: statSync(`${file}.map`).size,
          initMs: round(initMs, 1),
          initMsWithSourceMaps: round(initMsWithSourceMaps, 1),
          initRatioToNaive: round(initMs / naiveInitMs, 2),
          initRatioToNaiveWithSourceMaps: round(initMsWithSourceMaps / naiveInitMsWithSourceMaps, 2),
          imported: !errors.has(name),
          importError: errors.get(name) ?? null,
          topPackages: topPackages(metafile),
          bundleBytesSdkExternal: ourCode[name],
          externalsInitMs: round(median(s.externals) - bareNodeMs, 1),
        };
        return [name, entry];
      }),
    ) as Record<FunctionName, ColdStartEntry>;
    const { properties } = samBuildOf('router');
    const external = (properties.External as string[] | undefined) ?? [];
    return {
      runs: RUNS,
      bareNodeMs: round(bareNodeMs, 1),
      functions,
      naive: {
        bundleBytes: statSync(naive).size,
        initMs: round(naiveInitMs, 1),
        initMsWithSourceMaps: round(naiveInitMsWithSourceMaps, 1),
      },
      build: [
        String(properties.Format ?? 'cjs'),
        properties.Splitting === true ? 'split into chunks' : 'one file',
        external.length > 0 ? `External ${external.join(' ')}` : 'SDK bundled',
      ].join(', '),
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

if (import.meta.main) writeResult(await runColdStart());

/**
 * Starts the local AWS emulators this project tests and runs against, on free loopback ports:
 * DynamoDB Local (AWS's own jar: DynamoDB + DynamoDB Streams) and moto in server mode (SQS,
 * EventBridge, CloudWatch). Both are installed by scripts/setup.sh into the project tree.
 *
 * The code under test never knows about them: it reads the SDK's standard AWS_ENDPOINT_URL_*
 * variables, which `emulatorEnvironment` produces.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RoutingManagerError } from '../errors.ts';

export interface EmulatorEndpoints {
  readonly dynamodb: string;
  readonly moto: string;
}

export interface RunningEmulators {
  readonly endpoints: EmulatorEndpoints;
  stop(): Promise<void>;
}

export class EmulatorNotInstalledError extends RoutingManagerError {
  readonly path: string;
  constructor(path: string) {
    super(
      'emulator_not_installed',
      `Emulator not installed at ${path}; run \`bash scripts/setup.sh\` first.`,
    );
    this.name = 'EmulatorNotInstalledError';
    this.path = path;
  }
}

export class EmulatorStartTimeoutError extends RoutingManagerError {
  readonly emulator: string;
  constructor(emulator: string, output: string) {
    super(
      'emulator_start_timeout',
      `${emulator} did not become ready in time. Last output:\n${output.slice(-2000)}`,
    );
    this.name = 'EmulatorStartTimeoutError';
    this.emulator = emulator;
  }
}

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      // A TCP server listening on a host and port always has an AddressInfo (never a pipe name).
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

async function waitUntilReady(
  name: string,
  url: string,
  child: ChildProcess,
  output: () => string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new EmulatorStartTimeoutError(name, output());
    try {
      // Any HTTP answer (even 400 for a request without an action) means the server listens.
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  signalGroup(child, 'SIGKILL');
  throw new EmulatorStartTimeoutError(name, output());
}

function startProcess(command: string, args: string[], cwd?: string) {
  // A process group of its own: stopping signals the whole group, so nothing the emulator started
  // outlives it, and a Ctrl-C on the terminal reaches only us — we stop the emulators in order.
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  // A command that cannot be spawned (java not installed) emits 'error' instead of exiting; without a
  // listener that would crash the process. Its exitCode is set too, so waitUntilReady reports it.
  child.on('error', (error) => append(Buffer.from(`${error.message}\n`)));
  return { child, output: () => output };
}

/** Signals the child's process group (see startProcess); a group already gone is fine. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: every member has exited already.
  }
}

function stopProcess(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    signalGroup(child, 'SIGKILL');
    return Promise.resolve();
  }
  return new Promise((resolveStop) => {
    const killTimer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(killTimer);
      // The leader is gone; anything it left behind in its group goes with it.
      signalGroup(child, 'SIGKILL');
      resolveStop();
    });
    signalGroup(child, 'SIGTERM');
  });
}

export interface StartOptions {
  /** How long each emulator may take to answer HTTP (a cold JVM on a busy 2-core machine: seconds). */
  readonly timeoutMs?: number;
  /** Where scripts/setup.sh installed `.emulators/` and `.venv/`; defaults to this project. */
  readonly installRoot?: string;
  /** How long an emulator may take to exit after SIGTERM before it is killed (default 3000 ms). */
  readonly stopGraceMs?: number;
}

export async function startEmulators(options: StartOptions = {}): Promise<RunningEmulators> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const root = options.installRoot ?? projectRoot;
  const stopGraceMs = options.stopGraceMs ?? 3000;
  const ddbDir = join(root, '.emulators', 'dynamodb-local');
  const motoBin = join(root, '.venv', 'bin', 'moto_server');
  if (!existsSync(join(ddbDir, 'DynamoDBLocal.jar'))) throw new EmulatorNotInstalledError(ddbDir);
  if (!existsSync(motoBin)) throw new EmulatorNotInstalledError(motoBin);

  const [ddbPort, motoPort] = await Promise.all([freePort(), freePort()]);
  const ddb = startProcess(
    'java',
    [
      `-Djava.library.path=${join(ddbDir, 'DynamoDBLocal_lib')}`,
      '-Xmx512m',
      '-jar',
      join(ddbDir, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-sharedDb',
      '-port',
      String(ddbPort),
    ],
    ddbDir,
  );
  const moto = startProcess(motoBin, ['-H', '127.0.0.1', '-p', String(motoPort)]);
  const endpoints: EmulatorEndpoints = {
    dynamodb: `http://127.0.0.1:${ddbPort}`,
    moto: `http://127.0.0.1:${motoPort}`,
  };
  const stop = async () => {
    await Promise.all([stopProcess(ddb.child, stopGraceMs), stopProcess(moto.child, stopGraceMs)]);
  };
  try {
    await Promise.all([
      waitUntilReady('DynamoDB Local', endpoints.dynamodb, ddb.child, ddb.output, timeoutMs),
      waitUntilReady('moto server', `${endpoints.moto}/moto-api/`, moto.child, moto.output, timeoutMs),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoints, stop };
}

/** The standard AWS SDK environment that points every client this project uses at the emulators. */
export function emulatorEnvironment(endpoints: EmulatorEndpoints): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    // The AWS CLI and boto3 read AWS_DEFAULT_REGION; the SDK for JavaScript reads AWS_REGION.
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_DYNAMODB_STREAMS: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.moto,
    AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.moto,
    AWS_ENDPOINT_URL_CLOUDWATCH: endpoints.moto,
    AWS_ENDPOINT_URL_KMS: endpoints.moto,
    AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: endpoints.moto,
  };
}

/**
 * Where the CLI's AWS calls go, resolved the way the AWS CLI resolves it — before any call is made,
 * so a missing region or a mistyped profile is a usage error that says what to do, not an SDK
 * stack trace after the first request.
 *
 *   profile:  --profile, then AWS_PROFILE (none: the SDK's default chain)
 *   region:   --region, then AWS_REGION, then AWS_DEFAULT_REGION, then the profile's `region`
 *             in the shared config file (AWS_CONFIG_FILE or ~/.aws/config)
 *   endpoint: --endpoint-url for every service; otherwise the SDK's AWS_ENDPOINT_URL[_<SERVICE>]
 *
 * Parsing the shared files is pure (text in, profiles out); reading them is one function.
 */

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RoutingManagerError } from '../errors.ts';

export interface AwsSettings {
  readonly region: string;
  readonly profile?: string;
  readonly endpoint?: string;
}

export interface AwsOptions {
  readonly profile?: string;
  readonly region?: string;
  readonly endpointUrl?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Profiles of the shared files: name → its region (undefined when the profile sets none). */
export type SharedProfiles = ReadonlyMap<string, string | undefined>;

export class MissingRegionError extends RoutingManagerError {
  constructor(profile: string | undefined) {
    super(
      'missing_region',
      'no AWS region: pass --region (e.g. --region eu-west-1) or set AWS_REGION' +
        (profile ? `, or set a region for profile ${profile} in ~/.aws/config` : ''),
    );
    this.name = 'MissingRegionError';
  }
}

export class UnknownProfileError extends RoutingManagerError {
  constructor(profile: string, from: string, known: readonly string[]) {
    super(
      'unknown_profile',
      `AWS profile ${profile} (from ${from}) is not in ~/.aws/config or ~/.aws/credentials; ` +
        (known.length > 0 ? `known profiles: ${known.join(', ')}` : 'no profiles are configured'),
    );
    this.name = 'UnknownProfileError';
  }
}

export class InvalidEndpointError extends RoutingManagerError {
  constructor(endpoint: string) {
    super(
      'invalid_endpoint',
      `--endpoint-url ${endpoint} is not an http(s) URL (e.g. http://127.0.0.1:4566)`,
    );
    this.name = 'InvalidEndpointError';
  }
}

const SECTION = /^\s*\[\s*([^\]]+?)\s*\]\s*$/;
const REGION = /^\s*region\s*=\s*(\S+)\s*$/;

/** The profiles of one INI file; `config` sections read `[profile NAME]` (and `[default]`). */
function profilesOf(text: string, file: 'config' | 'credentials', into: Map<string, string | undefined>) {
  let current: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    const section = SECTION.exec(line);
    if (section) {
      const name = section[1] as string;
      current =
        file === 'credentials' || name === 'default'
          ? name
          : name.startsWith('profile ')
            ? name.slice('profile '.length).trim()
            : null; // sso-session, services: not profiles
      if (current !== null && !into.has(current)) into.set(current, undefined);
      continue;
    }
    const region = REGION.exec(line);
    if (current !== null && region && file === 'config') into.set(current, region[1]);
  }
}

export function parseSharedProfiles(configText: string, credentialsText: string): SharedProfiles {
  const profiles = new Map<string, string | undefined>();
  profilesOf(configText, 'config', profiles);
  profilesOf(credentialsText, 'credentials', profiles);
  return profiles;
}

const readIfPresent = (path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

/** Reads the shared config and credentials files (absent files hold no profiles). */
export function readSharedProfiles(env: Env): SharedProfiles {
  const home = env.HOME ?? homedir();
  return parseSharedProfiles(
    readIfPresent(env.AWS_CONFIG_FILE ?? join(home, '.aws', 'config')),
    readIfPresent(env.AWS_SHARED_CREDENTIALS_FILE ?? join(home, '.aws', 'credentials')),
  );
}

/**
 * The settings for this run. The shared files are read only when they matter: a profile was named
 * (it must exist), or no region came from the options or the environment.
 */
export function resolveAwsSettings(
  options: AwsOptions,
  env: Env,
  sharedProfiles: () => SharedProfiles = () => readSharedProfiles(env),
): AwsSettings {
  const profile = options.profile ?? (env.AWS_PROFILE?.trim() || undefined);
  const endpoint = options.endpointUrl;
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(endpoint))
    throw new InvalidEndpointError(endpoint);
  let region = options.region ?? (env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || undefined);
  if (profile !== undefined || region === undefined) {
    const profiles = sharedProfiles();
    if (profile !== undefined && !profiles.has(profile)) {
      throw new UnknownProfileError(profile, options.profile ? '--profile' : 'AWS_PROFILE', [
        ...profiles.keys(),
      ]);
    }
    region ??= profiles.get(profile ?? 'default');
  }
  if (region === undefined) throw new MissingRegionError(profile);
  return { region, ...(profile ? { profile } : {}), ...(endpoint ? { endpoint } : {}) };
}

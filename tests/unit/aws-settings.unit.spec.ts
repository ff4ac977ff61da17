import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  InvalidEndpointError,
  MissingRegionError,
  parseSharedProfiles,
  readSharedProfiles,
  resolveAwsSettings,
  UnknownProfileError,
} from '../../src/cli/aws-settings.ts';

const CONFIG = `
[default]
region = eu-west-1

[profile ops]
region=ap-south-1
output = json

[profile sso-only]
sso_session = corp

[sso-session corp]
sso_region = us-east-1
`;
const CREDENTIALS = `
[default]
aws_access_key_id = AKIA…
[ci]
aws_access_key_id = AKIA…
`;
const profiles = parseSharedProfiles(CONFIG, CREDENTIALS);

describe('shared profiles', () => {
  it('given a config and a credentials file, when parsed, then every profile is known with its region and sso sessions are not profiles', () => {
    expect(Object.fromEntries(profiles)).toEqual({
      default: 'eu-west-1',
      ops: 'ap-south-1',
      'sso-only': undefined,
      ci: undefined,
    });
  });

  it('given files named by AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE, when read, then their profiles are known; missing files hold none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aws-'));
    writeFileSync(join(dir, 'config'), CONFIG);
    expect([
      ...readSharedProfiles({
        AWS_CONFIG_FILE: join(dir, 'config'),
        AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
      }).keys(),
    ]).toEqual(['default', 'ops', 'sso-only']);
    expect(readSharedProfiles({ HOME: join(dir, 'nobody') }).size).toBe(0);
  });
});

describe('where AWS calls go', () => {
  const noFiles = () => parseSharedProfiles('', '');

  it.each([
    [
      '--region over everything',
      { region: 'us-west-2' },
      { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-north-1' },
      'us-west-2',
    ],
    [
      'AWS_REGION over AWS_DEFAULT_REGION',
      {},
      { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-north-1' },
      'eu-west-1',
    ],
    ['AWS_DEFAULT_REGION alone', {}, { AWS_DEFAULT_REGION: 'eu-north-1' }, 'eu-north-1'],
    ["the profile's region last", { profile: 'ops' }, {}, 'ap-south-1'],
    ["the default profile's region", {}, {}, 'eu-west-1'],
  ])('given %s, when resolved, then the region is that one', (_, options, env, region) => {
    expect(resolveAwsSettings(options, env, () => profiles).region).toBe(region);
  });

  it('given AWS_PROFILE, when resolved, then it is the profile, and --profile wins over it', () => {
    expect(resolveAwsSettings({}, { AWS_PROFILE: 'ci', AWS_REGION: 'x-1' }, () => profiles)).toEqual({
      region: 'x-1',
      profile: 'ci',
    });
    expect(resolveAwsSettings({ profile: 'ops' }, { AWS_PROFILE: 'ci' }, () => profiles).profile).toBe('ops');
  });

  it('given a region from the environment and no profile, when resolved, then the shared files are not read', () => {
    const read = () => {
      throw new Error('read');
    };
    expect(
      resolveAwsSettings({ endpointUrl: 'http://127.0.0.1:4566' }, { AWS_REGION: 'eu-west-1' }, read),
    ).toEqual({
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:4566',
    });
  });

  it('given no region anywhere, when resolved, then the error names --region and AWS_REGION (and the profile)', () => {
    expect(() => resolveAwsSettings({}, {}, noFiles)).toThrow(MissingRegionError);
    expect(() => resolveAwsSettings({}, {}, noFiles)).toThrow(/--region .*AWS_REGION/);
    expect(() => resolveAwsSettings({ profile: 'sso-only' }, {}, () => profiles)).toThrow(
      /region for profile sso-only in ~\/\.aws\/config/,
    );
  });

  it('given a profile that does not exist, when resolved, then the error names it, where it came from and the known ones', () => {
    expect(() => resolveAwsSettings({ profile: 'prod-typo' }, {}, () => profiles)).toThrow(
      UnknownProfileError,
    );
    expect(() => resolveAwsSettings({}, { AWS_PROFILE: 'prod-typo' }, () => profiles)).toThrow(
      'AWS profile prod-typo (from AWS_PROFILE) is not in ~/.aws/config or ~/.aws/credentials; known profiles: default, ops, sso-only, ci',
    );
    expect(() => resolveAwsSettings({ profile: 'x' }, {}, noFiles)).toThrow(
      /from --profile.*no profiles are configured/,
    );
  });

  it.each(['localhost:4566', 'ftp://x', 'http://'])(
    'given --endpoint-url %s, when resolved, then it is refused',
    (url) => {
      expect(() => resolveAwsSettings({ endpointUrl: url }, { AWS_REGION: 'x' }, noFiles)).toThrow(
        InvalidEndpointError,
      );
    },
  );
});

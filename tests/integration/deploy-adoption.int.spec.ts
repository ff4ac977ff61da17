/**
 * `npm run deploy` after `sam delete` (docs/DEPLOY.md): the stage's state tables were retained and
 * no stack is left, so the preflight (scripts/deploy_preflight.py, boto3 against DynamoDB Local and
 * moto's CloudFormation) adds AdoptRetainedTables=true and the retained log's stream ARN to the
 * `sam deploy` call. A stand-in SAM CLI records the calls, so nothing deploys.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { provisionLocalStack } from '../../src/local/provision.ts';
import { uniqueStage } from '../support/local-aws.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dynamodb = new DynamoDBClient({});
afterAll(() => dynamodb.destroy());

function deploy(args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'fake-sam-'));
  const calls = join(dir, 'calls');
  const sam = join(dir, 'sam');
  writeFileSync(sam, `#!/usr/bin/env bash\necho "$*" >> ${JSON.stringify(calls)}\n`);
  chmodSync(sam, 0o755);
  const result = spawnSync('bash', ['scripts/deploy.sh', ...args], {
    cwd: root,
    // moto serves CloudFormation on the same endpoint as everything else.
    env: { ...process.env, SAM_CLI: sam, AWS_ENDPOINT_URL_CLOUDFORMATION: process.env.AWS_ENDPOINT_URL_SQS },
    encoding: 'utf8',
  });
  const recorded = result.status === 0 ? readFileSync(calls, 'utf8').trim().split('\n') : [];
  return { status: result.status, stderr: result.stderr, calls: recorded };
}

describe('npm run deploy after sam delete', { timeout: 60_000 }, () => {
  it('given the retained tables of a stage and no stack, then sam deploy adopts them with the log stream', async () => {
    const stage = uniqueStage('d');
    await provisionLocalStack({ stage });
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: `RoutingLog-${stage}` }));
    const args = ['--config-env', 'dev', '--stack-name', `routing-manager-${stage}`];
    const { status, stderr, calls } = deploy([...args, '--parameter-overrides', `Stage=${stage}`]);
    expect(status, stderr).toBe(0);
    expect(stderr).toContain(`adopting the retained tables of stage ${stage}`);
    expect(calls[1]).toBe(
      `deploy ${args.join(' ')} --parameter-overrides Stage=${stage} --parameter-overrides Stage=${stage} ` +
        `AdoptRetainedTables=true RoutingLogStreamArn=${Table?.LatestStreamArn}`,
    );
  });

  it('given a stage with no retained tables and no stack, then the parameters are left as given', () => {
    const stage = uniqueStage('d');
    const { status, calls } = deploy([
      '--config-env',
      'dev',
      '--stack-name',
      `routing-manager-${stage}`,
      '--parameter-overrides',
      `Stage=${stage}`,
    ]);
    expect(status).toBe(0);
    expect(calls[1]).toBe(
      `deploy --config-env dev --stack-name routing-manager-${stage} --parameter-overrides Stage=${stage}`,
    );
  });
});

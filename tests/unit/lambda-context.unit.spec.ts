/** The Lambda context the handlers get when invoked locally and in tests. */
import { describe, expect, it } from 'vitest';
import { aLocalLambdaContext } from '../../src/local/lambda-context.ts';

describe('a local Lambda context', () => {
  it('given a function name, when built, then the ARN, log group and name all name that function', () => {
    const context = aLocalLambdaContext('routing-manager-router-local');
    expect(context).toMatchObject({
      functionName: 'routing-manager-router-local',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:routing-manager-router-local',
      logGroupName: '/aws/lambda/routing-manager-router-local',
      callbackWaitsForEmptyEventLoop: false,
    });
  });

  it('given no function name, when built, then it names the local function', () => {
    expect(aLocalLambdaContext().functionName).toBe('routing-manager-local');
  });

  it('given two invocations, when built, then each has its own request id, also naming its log stream', () => {
    const first = aLocalLambdaContext('f');
    const second = aLocalLambdaContext('f');
    expect(first.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.awsRequestId).not.toBe(second.awsRequestId);
    expect(first.logStreamName).toBe(first.awsRequestId);
  });

  it('given a context, when the handler asks for time left or uses the legacy callbacks, then it has the full 30 s and the callbacks do nothing', () => {
    const context = aLocalLambdaContext('f');
    expect(context.getRemainingTimeInMillis()).toBe(30_000);
    expect([context.done(), context.fail('x'), context.succeed('ok')]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });
});

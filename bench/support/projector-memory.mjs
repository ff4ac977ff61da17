// Fresh-process probe for bench/memory.ts: reads a Lambda DynamoDB-stream event from a JSON file (as
// the runtime would receive it), imports the esbuild bundle of the projector (as deployed) and
// invokes it once. Plain JavaScript on purpose: a .ts entry would load Node's type stripper, whose
// memory is not part of a deployed function. Prints one JSON line; handler logs go to /dev/null.
import { readFileSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, eventFile] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const rssBeforeImport = process.resourceUsage().maxRSS;
for (const stream of [process.stdout, process.stderr]) {
  stream.write = (_chunk, ...rest) => {
    rest.find((arg) => typeof arg === 'function')?.();
    return true;
  };
}
const { handler } = await import(pathToFileURL(bundle).href);
const rssAfterImport = process.resourceUsage().maxRSS;
const context = {
  functionName: 'projector',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:projector',
  memoryLimitInMB: '256',
  awsRequestId: 'memory-probe',
  logGroupName: '/aws/lambda/projector',
  logStreamName: 'memory-probe',
  getRemainingTimeInMillis: () => 30_000,
};
const start = performance.now();
const response = await handler(event, context);
const handlerMs = performance.now() - start;
const kb = (value) => Math.round((value / 1024) * 10) / 10;
writeSync(
  1,
  `${JSON.stringify({
    records: event.Records.length,
    rssBeforeImportMb: kb(rssBeforeImport),
    rssAfterImportMb: kb(rssAfterImport),
    peakRssMb: kb(process.resourceUsage().maxRSS),
    handlerMs: Math.round(handlerMs),
    failed: response?.batchItemFailures?.length ?? -1,
  })}\n`,
);
process.exit(0);

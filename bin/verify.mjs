#!/usr/bin/env node
// `npm run verify -- --stage dev`: Node 24 runs the TypeScript sources directly (type stripping).
import { runVerify } from '../src/verify/main.ts';

process.exitCode = await runVerify(process.argv.slice(2), process);

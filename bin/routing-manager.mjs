#!/usr/bin/env node
// The `routing-manager` command: Node 24 runs the TypeScript sources directly (type stripping).
import { processIo, runCli } from '../src/cli/main.ts';

process.exitCode = await runCli(process.argv.slice(2), processIo());

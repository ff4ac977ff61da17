#!/usr/bin/env node
/**
 * The static IaC scan of template.yaml (checkov, installed by scripts/setup.sh into .venv-checkov/),
 * held to the committed list of accepted findings (scripts/iac-scan-accepted.yaml): a finding not
 * on the list fails, and so does an accepted entry that no longer matches a finding. Prints every
 * finding it fails on with its check id, name and resource.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const checkov = join(root, '.venv-checkov', 'bin', 'checkov');
const run = spawnSync(
  checkov,
  ['-f', 'template.yaml', '--framework', 'cloudformation', '--output', 'json', '--quiet', '--soft-fail'],
  { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
);
if (run.error || run.status !== 0) {
  process.stderr.write(
    `checkov did not run (${run.error?.message ?? `exit ${run.status}`}); run: bash scripts/setup.sh\n${run.stderr ?? ''}`,
  );
  process.exit(1);
}
const report = JSON.parse(run.stdout);
const results = (Array.isArray(report) ? report : [report]).find((r) => r.check_type === 'cloudformation');
if (!results || results.summary.parsing_errors > 0) {
  process.stderr.write('checkov parsed no CloudFormation template (or failed to parse it)\n');
  process.exit(1);
}
const accepted = parse(readFileSync(join(root, 'scripts', 'iac-scan-accepted.yaml'), 'utf8')).accepted;
const acceptedKeys = new Set();
for (const entry of accepted) {
  if (typeof entry.why !== 'string' || entry.why.trim().length < 20) {
    process.stderr.write(`${entry.check}: an accepted finding needs a why\n`);
    process.exit(1);
  }
  for (const resource of entry.resources) acceptedKeys.add(`${entry.check} ${resource}`);
}
const findings = results.results.failed_checks.map((f) => ({
  key: `${f.check_id} ${f.resource}`,
  name: f.check_name,
}));
const unexplained = findings.filter((f) => !acceptedKeys.has(f.key));
const found = new Set(findings.map((f) => f.key));
const stale = [...acceptedKeys].filter((key) => !found.has(key));
for (const f of unexplained) process.stdout.write(`new finding: ${f.key} — ${f.name}\n`);
for (const key of stale) process.stdout.write(`stale acceptance (no longer found): ${key}\n`);
const { passed, failed } = results.summary;
process.stdout.write(
  `checkov ${results.summary.checkov_version}: ${passed} passed, ${failed} failed (${failed - unexplained.length} accepted in scripts/iac-scan-accepted.yaml), ${unexplained.length} unexplained, ${stale.length} stale\n`,
);
process.exit(unexplained.length > 0 || stale.length > 0 ? 1 : 0);

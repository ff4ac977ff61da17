/**
 * The layers of src/, enforced: `npm run lint` runs `depcruise src` with this file, so an import that
 * runs back up a floor, a cycle, or @aws-sdk outside the adapters and entry points fails CI.
 * docs/ARCHITECTURE.md#layers draws the same floors.
 *
 * FLOORS lists every top-level folder (or root file) of src/, from the ground up. A module may import
 * its own folder and any folder on a LOWER floor, never one on its own floor or above: so the folders
 * form a DAG as well as a stack, and a new folder must be placed here before it may import anything.
 */
const FLOORS = [
  // core: pure data and helpers, no ports, no I/O of their own
  { layer: 'core', folders: ['errors.ts', 'exit-codes.ts'] },
  { layer: 'core', folders: ['observability'] },
  { layer: 'core', folders: ['batching'] },
  { layer: 'core', folders: ['intake'] },
  { layer: 'core', folders: ['routing'] },
  { layer: 'core', folders: ['log'] },
  { layer: 'core', folders: ['template'] },
  // ports: interfaces, typed in core terms only
  { layer: 'ports', folders: ['ports'] },
  // domain: deciders, folds, projections and read models over the ports
  { layer: 'domain', folders: ['content', 'provider-health'] },
  { layer: 'domain', folders: ['projections'] },
  { layer: 'domain', folders: ['queries'] },
  { layer: 'domain', folders: ['rules'] },
  { layer: 'domain', folders: ['commands'] },
  // settings the adapters and entry points are configured by
  { layer: 'config', folders: ['config'] },
  // adapters: the only modules that talk to AWS (aws) or stand in for it (memory)
  { layer: 'adapters', folders: ['aws', 'memory'] },
  // entry points: composition roots
  { layer: 'entry', folders: ['heartbeat'] },
  { layer: 'entry', folders: ['handlers'] },
  // the operator console's server and page: started by the cli's `console` verb, it runs the cli's
  // verbs through the runner that verb hands it, never importing the cli
  { layer: 'entry', folders: ['console'] },
  { layer: 'entry', folders: ['lambda', 'verify', 'cli'] },
  { layer: 'entry', folders: ['local'] },
];

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const pathOf = (folder) => (folder.endsWith('.ts') ? `^src/${escape(folder)}$` : `^src/${escape(folder)}/`);
const anyOf = (folders) => folders.map(pathOf).join('|');
const ALL = FLOORS.flatMap((floor) => floor.folders);
/** Folders that may build AWS clients: the adapters and the entry points. */
const SDK_USERS = FLOORS.filter((floor) => ['adapters', 'entry'].includes(floor.layer)).flatMap((f) => f.folders);

const upward = FLOORS.flatMap((floor, index) => {
  const higher = FLOORS.slice(index).flatMap((f) => f.folders);
  return floor.folders.flatMap((folder) => {
    const forbiddenTargets = higher.filter((other) => other !== folder);
    if (forbiddenTargets.length === 0) return [];
    return [{
    name: `${floor.layer}-${folder.replace('.ts', '')}-imports-only-lower-floors`,
    comment: `src/${folder} (${floor.layer}) may import only folders on lower floors (.dependency-cruiser.cjs FLOORS)`,
    severity: 'error',
    from: { path: pathOf(folder) },
      to: { path: anyOf(forbiddenTargets) },
    }];
  });
});

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'no-circular',
      comment: 'Modules that import each other, directly or through others: a layering bug.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'folder-on-a-floor',
      comment: 'Every folder of src/ stands on a floor of .dependency-cruiser.cjs FLOORS.',
      severity: 'error',
      from: { path: '^src/', pathNot: anyOf(ALL) },
      to: {},
    },
    {
      name: 'aws-sdk-only-in-adapters-and-entry-points',
      comment: 'Only src/aws and the entry points that build clients import @aws-sdk.',
      severity: 'error',
      from: { path: '^src/', pathNot: anyOf(SDK_USERS) },
      to: { path: '@aws-sdk/' },
    },
    {
      name: 'cli-verbs-never-import-verbs',
      comment:
        'A verb (src/cli/verbs/<verb>.ts, or its folder) imports no other verb: what two verbs share moves down into src/cli or a lower floor.',
      severity: 'error',
      from: { path: '^src/cli/verbs/([^/.]+)' },
      to: { path: '^src/cli/verbs/', pathNot: '^src/cli/verbs/$1([/.])' },
    },
    {
      name: 'cli-verbs-take-adapters-from-the-context',
      comment:
        "The CLI's one composition root is context.ports() (src/cli/cli-ports.ts): a verb never constructs a DynamoDB adapter itself.",
      severity: 'error',
      from: { path: '^src/cli/verbs/' },
      to: { path: '^src/aws/dynamodb-' },
    },
    {
      name: 'src-never-imports-tests-or-bench',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(tests|bench)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};

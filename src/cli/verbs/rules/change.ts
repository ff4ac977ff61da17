/**
 * `rules promote | rollback | shadow FILE|--stop | canary FILE --percent P|--stop`: the changes of
 * the rules in force other than a publication, each one ChangeRules command.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { UsageError } from '../../cli-context.ts';
import { readRoutingTableFile } from '../../rules-files.ts';
import { type AuthorOptions, author, authorOptions, type ContextOf, run } from './change-report.ts';

function percentage(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0 || parsed > 100 || Math.round(parsed * 100) !== parsed * 100)
    throw new InvalidArgumentError('expected a percentage in (0, 100] with at most two decimals');
  return parsed;
}

export function registerRulesChanges(rules: Command, contextOf: ContextOf) {
  authorOptions(rules.command('promote').description('make the running canary the active rules')).action(
    async (options: AuthorOptions, command: Command) => {
      const context = contextOf(command);
      await run(context, { type: 'PromoteCanary', data: author(context, options) }, options.json);
    },
  );

  authorOptions(
    rules
      .command('rollback')
      .description('stop the running canary; without one, restore the previously active rules'),
  ).action(async (options: AuthorOptions, command: Command) => {
    const context = contextOf(command);
    await run(context, { type: 'RollbackRules', data: author(context, options) }, options.json);
  });

  authorOptions(
    rules
      .command('shadow')
      .description('evaluate a candidate table beside every decision (recorded, never acted on)')
      .argument('[file]', 'routing table JSON')
      .option('--stop', 'stop the shadow evaluation'),
  ).action(
    async (file: string | undefined, options: AuthorOptions & { stop?: boolean }, command: Command) => {
      const context = contextOf(command);
      if ((file === undefined) === (options.stop !== true))
        throw new UsageError('give a table file or --stop');
      const table = file === undefined ? null : await readRoutingTableFile(file, 'rules shadow');
      await run(context, { type: 'ShadowRules', data: { ...author(context, options), table } }, options.json);
    },
  );

  authorOptions(
    rules
      .command('canary')
      .description('let a candidate decide the jobs whose stable jobId bucket falls under --percent')
      .argument('[file]', 'routing table JSON')
      .option('--percent <p>', 'share of jobs, (0, 100]', percentage)
      .option('--stop', 'stop the canary (same as `rules rollback` while one runs)'),
  ).action(
    async (
      file: string | undefined,
      options: AuthorOptions & { stop?: boolean; percent?: number },
      command: Command,
    ) => {
      const context = contextOf(command);
      if ((file === undefined) === (options.stop !== true))
        throw new UsageError('give a table file or --stop');
      if (file !== undefined && options.percent === undefined) throw new UsageError('--percent is required');
      const table = file === undefined ? null : await readRoutingTableFile(file, 'rules canary');
      await run(
        context,
        { type: 'CanaryRules', data: { ...author(context, options), table, percent: options.percent ?? 0 } },
        options.json,
      );
    },
  );
}

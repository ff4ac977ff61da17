/**
 * Reading IAM policies out of the evaluated template: the statements of a role, the ones broader
 * than least privilege, and action → resources as a comparable allow-list.
 */
import { HEARTBEAT_NAMESPACE } from '../../src/config/heartbeat-config.ts';
import type {
  CloudFormationTemplate,
  TemplateDict as Dict,
  TemplateEvaluator,
} from '../../src/template/cloudformation-template.ts';

export interface Statement {
  Sid?: string;
  Effect: string;
  Principal?: unknown;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: Dict;
}

const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

export function roleStatements(
  template: CloudFormationTemplate,
  evaluator: TemplateEvaluator,
  roleLogicalId: string,
): Statement[] {
  const role = template.Resources[roleLogicalId];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`${roleLogicalId} is not an AWS::IAM::Role`);
  const policies = (role.Properties?.Policies ?? []) as Dict[];
  return policies.flatMap(
    (policy) => (evaluator.value(policy.PolicyDocument) as { Statement: Statement[] }).Statement,
  );
}

/** Returns a description of every statement broader than allowed; empty means least privilege. */
export function broadStatements(statements: Statement[]): string[] {
  const problems: string[] = [];
  for (const statement of statements) {
    const label = statement.Sid ?? JSON.stringify(statement);
    const actions = asList(statement.Action);
    const resources = asList(statement.Resource as string | string[]);
    if (statement.Effect !== 'Allow') problems.push(`${label}: Effect ${statement.Effect}`);
    if (statement.NotAction !== undefined || statement.NotResource !== undefined) {
      problems.push(`${label}: NotAction/NotResource`);
    }
    if (actions.length === 0 || resources.length === 0) problems.push(`${label}: no Action or no Resource`);
    for (const action of actions)
      if (action.includes('*')) problems.push(`${label}: wildcard action ${action}`);
    for (const resource of resources) {
      if (typeof resource !== 'string')
        problems.push(`${label}: unresolved resource ${JSON.stringify(resource)}`);
      else if (resource.includes('*')) {
        const namespacePinned =
          (statement.Condition?.StringEquals as Dict | undefined)?.['cloudwatch:namespace'] ===
          HEARTBEAT_NAMESPACE;
        const isMetricPublish = actions.length === 1 && actions[0] === 'cloudwatch:PutMetricData';
        if (!(resource === '*' && isMetricPublish && namespacePinned)) {
          problems.push(`${label}: wildcard resource ${resource} for ${actions.join(',')}`);
        }
      }
    }
  }
  return problems;
}

/** action → sorted resources it is granted on. */
export function grants(statements: Statement[]): Record<string, string[]> {
  const byAction: Record<string, Set<string>> = {};
  for (const statement of statements) {
    for (const action of asList(statement.Action)) {
      byAction[action] ??= new Set();
      for (const resource of asList(statement.Resource as string | string[])) byAction[action].add(resource);
    }
  }
  return Object.fromEntries(
    Object.entries(byAction)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([action, resources]) => [action, [...resources].sort()]),
  );
}

/**
 * template.yaml as data: parsed into CloudFormation's long form (`{"Fn::Sub": …}`) and evaluated
 * with concrete parameter values. The local stack provisions its tables and queues from it, and
 * the template tests read the grants a deployment would really make from it, so there is one
 * definition of every resource.
 *
 * Parsing uses the `yaml` package and converts CloudFormation's short-form tags (`!Ref`, `!Sub`,
 * `!GetAtt`, `!If`, …) while walking the document; YAML aliases are refused, as CloudFormation does.
 */

import { readFileSync } from 'node:fs';
import { isAlias, isMap, isScalar, isSeq, parseDocument, type Node as YamlNode } from 'yaml';
import { RoutingManagerError } from '../errors.ts';

export type TemplateNode = unknown;
export type TemplateDict = Record<string, TemplateNode>;

export interface TemplateResource {
  readonly Type: string;
  readonly Condition?: string;
  readonly Properties?: TemplateDict;
  readonly Metadata?: TemplateDict;
  readonly DependsOn?: string | string[];
}

export interface CloudFormationTemplate {
  readonly Parameters: Record<string, TemplateDict>;
  readonly Conditions: Record<string, TemplateNode>;
  readonly Mappings?: Record<string, Record<string, TemplateDict>>;
  readonly Globals: { readonly Function: TemplateDict };
  readonly Resources: Record<string, TemplateResource>;
  readonly Outputs: Record<string, TemplateDict>;
}

export class TemplateError extends RoutingManagerError {
  constructor(message: string) {
    super('invalid_template', message);
    this.name = 'TemplateError';
  }
}

/** The project's template.yaml. */
export const TEMPLATE_PATH = new URL('../../template.yaml', import.meta.url);

export function readTemplate(path: URL | string = TEMPLATE_PATH): CloudFormationTemplate {
  return parseTemplate(readFileSync(path, 'utf8'));
}

export function parseTemplate(text: string): CloudFormationTemplate {
  const document = parseDocument(text);
  const problems = [
    ...document.errors,
    // Unknown tags are expected (they are CloudFormation's and converted below); nothing else is.
    ...document.warnings.filter((warning) => warning.code !== 'TAG_RESOLVE_FAILED'),
  ];
  if (problems.length > 0) throw new TemplateError(`template.yaml: ${problems[0]?.message}`);
  const template = toLongForm(document.contents as YamlNode | null);
  if (template === null || typeof template !== 'object' || !('Resources' in template)) {
    throw new TemplateError('template.yaml: no Resources section');
  }
  return template as CloudFormationTemplate;
}

function longName(tag: string): string {
  const name = tag.slice(1);
  return name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
}

function toLongForm(node: YamlNode | null): TemplateNode {
  if (node === null) return null;
  if (isAlias(node)) throw new TemplateError('template.yaml: YAML aliases are not allowed');
  let value: TemplateNode;
  if (isMap(node)) {
    value = Object.fromEntries(
      node.items.map((pair) => [
        String(toLongForm(pair.key as YamlNode)),
        toLongForm(pair.value as YamlNode | null),
      ]),
    );
  } else if (isSeq(node)) {
    value = node.items.map((item) => toLongForm(item as YamlNode | null));
  } else if (isScalar(node)) {
    value = node.value;
  } else {
    throw new TemplateError('template.yaml: unsupported YAML node');
  }
  const tag = node.tag;
  if (tag === undefined || !tag.startsWith('!') || tag.startsWith('!!')) return value;
  // `!GetAtt Logical.Attribute` is the short form of `Fn::GetAtt: [Logical, Attribute]`.
  if (tag === '!GetAtt' && typeof value === 'string') {
    const dot = value.indexOf('.');
    return { 'Fn::GetAtt': [value.slice(0, dot), value.slice(dot + 1)] };
  }
  return { [longName(tag)]: value };
}

// ------------------------------------------------------------------ evaluation
const NO_VALUE = Symbol('AWS::NoValue');

export interface EvaluationContext {
  /** Parameter values; parameters not given take their Default. */
  readonly parameters: Readonly<Record<string, string>>;
  /** Pseudo parameters (AWS::Region, …); defaults describe a us-east-1 account 123456789012. */
  readonly pseudo?: Readonly<Record<string, string>>;
  /**
   * The value of `Ref Logical` (attribute undefined) or `GetAtt Logical.Attribute` of a resource;
   * undefined keeps it symbolic: `<Logical>` / `<Logical.Attribute>`.
   */
  readonly resource?: (logicalId: string, attribute?: string) => string | undefined;
}

const defaultPseudo: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'us-east-1',
  'AWS::AccountId': '123456789012',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'routing-manager',
};

/** Evaluates conditions and intrinsic functions of a template for one set of parameter values. */
export class TemplateEvaluator {
  readonly template: CloudFormationTemplate;
  readonly parameters: Readonly<Record<string, string>>;
  readonly #pseudo: Readonly<Record<string, string>>;
  readonly #resource: (logicalId: string, attribute?: string) => string | undefined;

  constructor(template: CloudFormationTemplate, context: EvaluationContext) {
    this.template = template;
    const defaults = Object.fromEntries(
      Object.entries(template.Parameters)
        .filter(([, parameter]) => parameter.Default !== undefined)
        .map(([name, parameter]) => [name, String(parameter.Default)]),
    );
    this.parameters = { ...defaults, ...context.parameters };
    this.#pseudo = { ...defaultPseudo, ...context.pseudo };
    this.#resource = context.resource ?? (() => undefined);
  }

  condition(name: string): boolean {
    const definition = this.template.Conditions[name];
    if (definition === undefined) throw new TemplateError(`unknown condition ${name}`);
    return this.truth(definition);
  }

  /** Whether the resource exists for these parameters (its Condition holds, or it has none). */
  exists(logicalId: string): boolean {
    const resource = this.template.Resources[logicalId];
    if (resource === undefined) return false;
    return resource.Condition === undefined || this.condition(resource.Condition);
  }

  /** The logical ids of the resources of `type` that exist for these parameters. */
  resourcesOfType(type: string): string[] {
    return Object.entries(this.template.Resources)
      .filter(([id, resource]) => resource.Type === type && this.exists(id))
      .map(([id]) => id);
  }

  truth(node: TemplateNode): boolean {
    const [fn, args] = Object.entries(node as TemplateDict)[0] ?? [];
    const list = args as TemplateNode[];
    switch (fn) {
      case 'Fn::Equals':
        return String(this.value(list[0])) === String(this.value(list[1]));
      case 'Fn::Not':
        return !this.truth(list[0]);
      case 'Fn::And':
        return list.every((n) => this.truth(n));
      case 'Fn::Or':
        return list.some((n) => this.truth(n));
      case 'Condition':
        return this.condition(args as string);
      default:
        throw new TemplateError(`unsupported condition function ${fn}`);
    }
  }

  /** The node with every intrinsic evaluated; `AWS::NoValue` removes the property or list item. */
  value(node: TemplateNode): unknown {
    if (Array.isArray(node)) return node.map((n) => this.value(n)).filter((v) => v !== NO_VALUE);
    if (node === null || typeof node !== 'object') return node;
    const entries = Object.entries(node as TemplateDict);
    const [fn, args] = entries[0] ?? [];
    if (entries.length === 1 && fn !== undefined && (fn === 'Ref' || fn.startsWith('Fn::'))) {
      return this.#intrinsic(fn, args);
    }
    return Object.fromEntries(
      entries.map(([key, value]) => [key, this.value(value)]).filter(([, value]) => value !== NO_VALUE),
    );
  }

  string(node: TemplateNode): string {
    const value = this.value(node);
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new TemplateError(`expected a string, got ${JSON.stringify(value)}`);
    }
    return String(value);
  }

  /** The evaluated Properties of a resource. */
  properties(logicalId: string): TemplateDict {
    const resource = this.template.Resources[logicalId];
    if (resource === undefined) throw new TemplateError(`unknown resource ${logicalId}`);
    return (this.value(resource.Properties ?? {}) ?? {}) as TemplateDict;
  }

  #intrinsic(fn: string, args: TemplateNode): unknown {
    const list = args as TemplateNode[];
    switch (fn) {
      case 'Ref':
        return this.#ref(args as string);
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = typeof args === 'string' ? args.split('.') : (list as string[]);
        if (!logicalId || !(logicalId in this.template.Resources)) {
          throw new TemplateError(`GetAtt of unknown ${logicalId}`);
        }
        return this.#resource(logicalId, attribute) ?? `<${logicalId}.${attribute}>`;
      }
      case 'Fn::If':
        return this.value(this.condition(list[0] as string) ? list[1] : list[2]);
      case 'Fn::Split':
        return this.string(list[1]).split(list[0] as string);
      case 'Fn::Select': {
        const items = this.value(list[1]) as unknown[];
        return items[Number(this.value(list[0]))];
      }
      case 'Fn::Join':
        return (this.value(list[1]) as string[]).join(list[0] as string);
      case 'Fn::FindInMap': {
        const [map, top, second] = list.map((n) => this.string(n)) as [string, string, string];
        const found = this.template.Mappings?.[map]?.[top]?.[second];
        if (found === undefined) throw new TemplateError(`FindInMap of unknown ${map}.${top}.${second}`);
        return found;
      }
      case 'Fn::Sub': {
        const [text, variables] =
          typeof args === 'string' ? [args, {} as TemplateDict] : (list as [string, TemplateDict]);
        return text.replace(/\$\{([^}!]+)\}/g, (_match, name: string) => {
          if (name in variables) return this.string(variables[name]);
          if (name.includes('.')) return this.string({ 'Fn::GetAtt': name });
          return this.string({ Ref: name });
        });
      }
      default:
        throw new TemplateError(`unsupported intrinsic ${fn}`);
    }
  }

  #ref(name: string): unknown {
    if (name === 'AWS::NoValue') return NO_VALUE;
    if (name in this.#pseudo) return this.#pseudo[name];
    if (name in this.parameters) return this.parameters[name];
    if (name in this.template.Resources) return this.#resource(name) ?? `<${name}>`;
    throw new TemplateError(`Ref to unknown ${name}`);
  }
}

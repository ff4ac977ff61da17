import { describe, expect, it } from 'vitest';
import {
  parseTemplate,
  TemplateError,
  TemplateEvaluator,
} from '../../src/template/cloudformation-template.ts';

const aTemplate = (resources: string, extra = '') =>
  parseTemplate(`
Parameters:
  Stage: { Type: String }
  Name: { Type: String, Default: '' }
Conditions:
  HasName: !Not [!Equals [!Ref Name, '']]
  IsProd: !Equals [!Ref Stage, prod]
  Both: !And [!Condition HasName, !Condition IsProd]
  Either: !Or [!Condition HasName, !Condition IsProd]
${extra}
Resources:
${resources}
`);

describe('parseTemplate', () => {
  it('turns short-form tags into the long form CloudFormation evaluates', () => {
    const template = aTemplate(`
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub Q-\${Stage}
      Arn: !GetAtt Other.Arn
      Listed: !GetAtt [Other, Arn]
      Joined: !Join ['-', [a, !Ref Stage]]
`);
    expect(template.Resources.Queue?.Properties).toEqual({
      QueueName: { 'Fn::Sub': expect.stringMatching(/^Q-\$\{Stage\}$/) },
      Arn: { 'Fn::GetAtt': ['Other', 'Arn'] },
      Listed: { 'Fn::GetAtt': ['Other', 'Arn'] },
      Joined: { 'Fn::Join': ['-', ['a', { Ref: 'Stage' }]] },
    });
    expect(template.Conditions.Both).toEqual({
      'Fn::And': [{ Condition: 'HasName' }, { Condition: 'IsProd' }],
    });
  });

  it('refuses YAML aliases, as CloudFormation does', () => {
    expect(() => parseTemplate('Resources:\n  A: &x { Type: T }\n  B: *x\n')).toThrow(/aliases/);
  });

  it('refuses malformed YAML and a document without Resources', () => {
    expect(() => parseTemplate('Resources: [\n')).toThrow(TemplateError);
    expect(() => parseTemplate('Parameters: {}\n')).toThrow(/no Resources/);
    expect(() => parseTemplate('')).toThrow(/no Resources/);
  });
});

describe('TemplateEvaluator', () => {
  const template = aTemplate(
    `
  Queue:
    Type: AWS::SQS::Queue
    Condition: HasName
    Properties:
      QueueName: !Sub
        - \${Prefix}-\${Stage}-\${AWS::Region}
        - Prefix: !Select [1, !Split ['/', 'a/b/c']]
      Key: !If [IsProd, !Ref Name, !Ref AWS::NoValue]
      Items: [one, !Ref AWS::NoValue, !Sub '\${Other.Arn}']
  Other:
    Type: AWS::SQS::Queue
`,
  );

  it('evaluates Sub, Select, Split, If and removes AWS::NoValue properties and items', () => {
    const dev = new TemplateEvaluator(template, { parameters: { Stage: 'dev', Name: 'n' } });
    expect(dev.properties('Queue')).toEqual({ QueueName: 'b-dev-us-east-1', Items: ['one', '<Other.Arn>'] });
    const prod = new TemplateEvaluator(template, { parameters: { Stage: 'prod', Name: 'n' } });
    expect(prod.properties('Queue').Key).toBe('n');
  });

  it('resolves resource references through the given resolver, symbolic otherwise', () => {
    const resolved = new TemplateEvaluator(template, {
      parameters: { Stage: 'dev' },
      resource: (id, attribute) => (attribute ? `arn:${id}` : `url:${id}`),
    });
    expect(resolved.value({ Ref: 'Other' })).toBe('url:Other');
    expect(resolved.value({ 'Fn::GetAtt': 'Other.Arn' })).toBe('arn:Other');
    expect(new TemplateEvaluator(template, { parameters: {} }).value({ Ref: 'Other' })).toBe('<Other>');
  });

  it('a resource exists when its condition holds; parameters default to their Default', () => {
    const withoutName = new TemplateEvaluator(template, { parameters: { Stage: 'prod' } });
    expect(withoutName.exists('Queue')).toBe(false);
    expect(withoutName.exists('Other')).toBe(true);
    expect(withoutName.exists('Missing')).toBe(false);
    expect(withoutName.resourcesOfType('AWS::SQS::Queue')).toEqual(['Other']);
    expect(withoutName.condition('Either')).toBe(true);
    expect(withoutName.condition('Both')).toBe(false);
  });

  it('reports what it cannot evaluate by name', () => {
    const evaluator = new TemplateEvaluator(template, { parameters: { Stage: 'dev' } });
    expect(() => evaluator.condition('Nope')).toThrow(/unknown condition Nope/);
    expect(() => evaluator.value({ Ref: 'Nope' })).toThrow(/Ref to unknown Nope/);
    expect(() => evaluator.value({ 'Fn::GetAtt': ['Nope', 'Arn'] })).toThrow(/GetAtt of unknown Nope/);
    expect(() => evaluator.value({ 'Fn::Base64': 'x' })).toThrow(/unsupported intrinsic Fn::Base64/);
    expect(() => evaluator.truth({ 'Fn::Contains': [] })).toThrow(/unsupported condition function/);
    expect(() => evaluator.string({ 'Fn::Split': [',', 'a,b'] })).toThrow(/expected a string/);
    expect(() => evaluator.properties('Nope')).toThrow(/unknown resource Nope/);
  });
});

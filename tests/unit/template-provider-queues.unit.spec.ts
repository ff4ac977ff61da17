/**
 * New providers are configuration: a provider declared by a published routing table gets its queue
 * URL from the ProviderQueueUrls parameter and the projector may send to the ARNs listed beside it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CloudFormationTemplate,
  readTemplate,
  TemplateEvaluator,
} from '../../src/template/cloudformation-template.ts';
import { grants, roleStatements } from '../support/template-policies.ts';

let template: CloudFormationTemplate;
beforeAll(() => {
  template = readTemplate();
});
const deployment = (parameters: Record<string, string>) => new TemplateEvaluator(template, { parameters });
const VEO_URL = 'https://sqs.eu-west-1.amazonaws.com/111122223333/VeoJobQueue';
const VEO_ARN = 'arn:aws:sqs:eu-west-1:111122223333:VeoJobQueue';

describe('template: provider queues as configuration', () => {
  it('given a Veo queue URL and ARN, the projector gets the mapping and may send to that queue', () => {
    const dev = deployment({
      Stage: 'dev',
      ProviderQueueUrls: JSON.stringify({ veo: VEO_URL }),
      ProviderQueueArns: VEO_ARN,
    });
    const variables = (
      dev.properties('ProjectorFunction').Environment as { Variables: Record<string, string> }
    ).Variables;
    expect(JSON.parse(variables.PROVIDER_QUEUE_URLS as string)).toEqual({ veo: VEO_URL });
    expect(grants(roleStatements(template, dev, 'ProjectorRole'))['sqs:SendMessage']).toContain(VEO_ARN);
  });

  it('given no extra providers, the mapping is empty and no extra queue is granted', () => {
    const dev = deployment({ Stage: 'dev' });
    const variables = (
      dev.properties('ProjectorFunction').Environment as { Variables: Record<string, string> }
    ).Variables;
    expect(variables.PROVIDER_QUEUE_URLS).toBe('{}');
    expect(grants(roleStatements(template, dev, 'ProjectorRole'))['sqs:SendMessage']).toHaveLength(3);
  });
});

import { contentFreeMessage } from './content-free-message.ts';

/** The code and message of anything thrown: what a failed effect reports and logs. */
export interface ErrorFacts {
  readonly code: string;
  readonly message: string;
}

/** Never the content: the message is stripped of anything a parse error may have quoted. */
export function errorFacts(error: unknown): ErrorFacts {
  return {
    code: error instanceof Error ? error.name : 'Error',
    message: contentFreeMessage(error),
  };
}

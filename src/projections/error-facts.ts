/** The code and message of anything thrown: what a failed effect reports and logs. */
export interface ErrorFacts {
  readonly code: string;
  readonly message: string;
}

export function errorFacts(error: unknown): ErrorFacts {
  return {
    code: error instanceof Error ? error.name : 'Error',
    message: error instanceof Error ? error.message : String(error),
  };
}

/** The page's calls to its console: the token from the page's own URL goes in a header. */
const token = new URLSearchParams(location.search).get('token') ?? '';

// The page reads exactly the envelope the server writes: one definition, erased from the bundle.
export type { Panel, PanelError } from '../panels.ts';

export class ApiError extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(path, {
    ...init,
    headers: { 'x-console-token': token, 'content-type': 'application/json', ...(init.headers ?? {}) },
  });
  const body = (await response.json()) as T & { error?: string; message?: string };
  if (!response.ok)
    throw new ApiError(response.status, body.error ?? 'error', body.message ?? response.statusText);
  return body;
}

export const get = <T>(path: string): Promise<T> => call<T>(path);
export const post = <T>(path: string, body: unknown): Promise<T> =>
  call<T>(path, { method: 'POST', body: JSON.stringify(body) });

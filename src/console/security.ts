/**
 * The console is an admin page on the operator's machine, so it defends against the other pages
 * that machine's browser opens:
 * - it listens on 127.0.0.1 only (src/console/console-server.ts);
 * - every request carries the run's random token (`?token=` as in Jupyter, or the
 *   `x-console-token` header the page's own calls send): a page elsewhere cannot know it;
 * - the `Host` header must name the loopback address and the console's port: a DNS-rebinding page
 *   (evil.example resolving to 127.0.0.1) sends its own host name and is refused;
 * - an `Origin`, when sent, must be the console's own (and is required to change anything);
 * - a Content-Security-Policy allows only the console's own scripts, styles and API, so the page
 *   makes no third-party request even if a value it shows were crafted to try.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';

export const TOKEN_HEADER = 'x-console-token';

/** 32 random bytes, URL-safe: a new one per run, never stored. */
export const newToken = (): string => randomBytes(32).toString('base64url');

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Constant-time comparison (hashed first, so lengths never leak either). */
export const tokenMatches = (given: string | undefined, token: string): boolean =>
  given !== undefined && timingSafeEqual(digest(given), digest(token));

const refuse = (status: 401 | 403, reason: string, message: string) =>
  Response.json({ error: reason, message }, { status, headers: { 'cache-control': 'no-store' } });

/** The Host names the console answers to: the loopback address (and `localhost`) at its port. */
export function allowedHosts(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
}

export function requireLoopbackHost(port: () => number): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header('host');
    if (!host || !allowedHosts(port()).has(host.toLowerCase()))
      return refuse(
        403,
        'host_not_allowed',
        'this console answers only to 127.0.0.1 and localhost at its port',
      );
    const origin = c.req.header('origin');
    const changes = c.req.method !== 'GET' && c.req.method !== 'HEAD';
    if (origin === undefined ? changes : !allowedHosts(port()).has(origin.replace(/^http:\/\//, '')))
      return refuse(403, 'origin_not_allowed', "requests must come from the console's own page");
    await next();
  };
}

export function requireToken(token: string): MiddlewareHandler {
  return async (c, next) => {
    const given = c.req.header(TOKEN_HEADER) ?? c.req.query('token');
    if (!tokenMatches(given, token))
      return refuse(401, 'token_required', 'open the URL the console printed (it carries the token)');
    await next();
  };
}

/** Own scripts, styles and API only; no framing, no forms elsewhere, no referrer (it holds the token). */
export const contentSecurity = (): MiddlewareHandler =>
  secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
      frameAncestors: ["'none'"],
    },
    referrerPolicy: 'no-referrer',
    crossOriginResourcePolicy: 'same-origin',
    xFrameOptions: 'DENY',
  });

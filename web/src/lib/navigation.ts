/**
 * A path inside Plein to return to after logging in. Anything else (another site, a
 * protocol-relative `//host` or `/\host` that browsers treat as one) sends you home instead.
 */
export function safeNext(next: string | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  return next;
}

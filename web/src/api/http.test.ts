import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, OfflineError, buildUrl, errorFrom, onSessionExpired, request } from './http';

afterEach(() => vi.unstubAllGlobals());

describe('buildUrl', () => {
  it('leaves out empty values and encodes the rest', () => {
    expect(buildUrl('/api/v1/people/search', { q: 'van der berg & co', limit: 20, skill: '', x: undefined })).toBe(
      '/api/v1/people/search?q=van+der+berg+%26+co&limit=20',
    );
    expect(buildUrl('/api/v1/me')).toBe('/api/v1/me');
  });
});

describe('errorFrom', () => {
  it('reads the server error format, fields and rows', async () => {
    const response = new Response(
      JSON.stringify({
        error: {
          code: 'invalid_rows',
          message: '2 rows are invalid',
          fields: { email: 'taken' },
          rows: [{ line: 3, column: 'email', message: 'not an email address' }],
        },
      }),
      { status: 422, headers: { 'Content-Type': 'application/json' } },
    );
    const error = await errorFrom(response);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(422);
    expect(error.code).toBe('invalid_rows');
    expect(error.message).toBe('2 rows are invalid');
    expect(error.fields).toEqual({ email: 'taken' });
    expect(error.rows).toEqual([{ line: 3, column: 'email', message: 'not an email address' }]);
  });

  it('falls back to the status line for a body that is not ours', async () => {
    const error = await errorFrom(new Response('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
    expect(error.code).toBe('http_error');
    expect(error.message).toBe('502 Bad Gateway');
  });
});

describe('request', () => {
  it('tells listeners when a request finds the session gone', async () => {
    vi.stubGlobal('fetch', async () =>
      new Response(JSON.stringify({ error: { code: 'unauthenticated', message: 'log in' } }), { status: 401 }),
    );
    let told = 0;
    const stop = onSessionExpired(() => told++);
    await expect(request('GET', '/api/v1/me')).rejects.toMatchObject({ status: 401, code: 'unauthenticated' });
    // A failed login is not an expired session, nor is asking who is signed in.
    await expect(request('POST', '/api/v1/auth/login', { body: {} })).rejects.toBeInstanceOf(ApiError);
    await expect(request('GET', '/api/v1/me', { anonymousAllowed: true })).rejects.toBeInstanceOf(ApiError);
    stop();
    expect(told).toBe(1);
  });

  it('reports an unreachable server as offline', async () => {
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('Failed to fetch');
    });
    await expect(request('GET', '/api/v1/me')).rejects.toBeInstanceOf(OfflineError);
  });

  it('sends JSON and parses JSON', async () => {
    const seen: { body?: unknown; type?: string | null } = {};
    vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => {
      seen.body = JSON.parse(String(init.body));
      seen.type = new Headers(init.headers).get('Content-Type');
      return new Response(JSON.stringify({ ok: true }), { status: 200 });
    });
    await expect(request('POST', '/api/v1/x', { body: { name: 'Zoë' } })).resolves.toEqual({ ok: true });
    expect(seen).toEqual({ body: { name: 'Zoë' }, type: 'application/json' });
  });
});

// The one way the client talks to the server: JSON in and out, errors in the server's format
// (`{"error": {"code", "message", "fields"?, "rows"?}}`) turned into ApiError, stale requests
// cancelled through AbortSignal.

export interface RowProblem {
  line: number;
  employee_id?: string;
  column?: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: Record<string, string> = {},
    readonly rows: RowProblem[] = [],
    /** Seconds to wait before trying again (`Retry-After`), when the server said. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The session is gone (expired, revoked, logged out elsewhere). */
  get unauthenticated(): boolean {
    return this.status === 401;
  }
}

/** Raised for network failures: the server could not be reached at all. */
export class OfflineError extends Error {
  constructor() {
    super('offline');
    this.name = 'OfflineError';
  }
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  query?: Query;
  /** Sent as JSON unless it is a Blob/File or a string with `contentType`. */
  body?: unknown;
  contentType?: string;
  /** Extra request headers (an `Idempotency-Key`). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** A 401 is an expected answer (asking who is signed in), not a session that ended. */
  anonymousAllowed?: boolean;
}

/** Listeners told when any request finds the session gone. */
const sessionListeners = new Set<() => void>();
export function onSessionExpired(listener: () => void): () => void {
  sessionListeners.add(listener);
  return () => sessionListeners.delete(listener);
}

export function buildUrl(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === '') continue;
    params.append(key, String(value));
  }
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

/** Turns an error response into an ApiError, whatever its body holds. */
export async function errorFrom(response: Response): Promise<ApiError> {
  let code = 'http_error';
  let message = `${response.status} ${response.statusText}`.trim();
  let fields: Record<string, string> = {};
  let rows: RowProblem[] = [];
  try {
    const body = (await response.json()) as {
      error?: { code?: string; message?: string; fields?: Record<string, string>; rows?: RowProblem[] };
    };
    if (body.error) {
      code = body.error.code ?? code;
      message = body.error.message ?? message;
      fields = body.error.fields ?? {};
      rows = body.error.rows ?? [];
    }
  } catch {
    // Not JSON (a proxy's error page): the status line is all there is.
  }
  const retryHeader = Number.parseInt(response.headers.get('Retry-After') ?? '', 10);
  const retryAfter = Number.isFinite(retryHeader) ? retryHeader : undefined;
  return new ApiError(response.status, code, message, fields, rows, retryAfter);
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  let body: BodyInit | undefined;
  if (options.body instanceof Blob) {
    body = options.body;
    headers['Content-Type'] = options.contentType ?? (options.body.type || 'application/octet-stream');
  } else if (typeof options.body === 'string' && options.contentType) {
    body = options.body;
    headers['Content-Type'] = options.contentType;
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['Content-Type'] = 'application/json';
  }
  let response: Response;
  try {
    response = await fetch(buildUrl(path, options.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new OfflineError();
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    if (error.unauthenticated && !options.anonymousAllowed && !path.startsWith('/api/v1/auth/')) {
      for (const listener of sessionListeners) listener();
    }
    throw error;
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

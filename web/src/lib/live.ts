// The tab's one live socket (`/api/v1/ws`): reconnects with backoff and jitter, resumes from the
// last `seq` it saw so nothing is missed, and tells the screens to reload on `resync`.

import type { components } from '../api/schema';

export type ServerFrame = components['schemas']['ServerFrame'];
export type ClientFrame = components['schemas']['ClientFrame'];

export type LiveState = 'connecting' | 'live' | 'offline' | 'signed-out';

/** The server's close codes a client acts on. */
export const SESSION_ENDED = 4001;

/** Milliseconds before reconnect attempt `attempt` (0 first): doubling from 0.5 s to 30 s, the
 *  upper half of it at random so that thousands of tabs do not come back at once. */
export function backoff(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(30_000, 500 * 2 ** Math.min(attempt, 10));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The socket's address for a page at `location`, resuming after `since` when given. */
export function socketUrl(location: { protocol: string; host: string }, since: number | null): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const query = since === null ? '' : `?since=${since}`;
  return `${scheme}//${location.host}/api/v1/ws${query}`;
}

/** The smallest part of `WebSocket` this module uses, so tests can stand in for it. */
export interface SocketLike {
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number }) => void) | null;
  send(data: string): void;
  close(code?: number): void;
}

export interface LiveOptions {
  /** Every frame, in order (after `seq` bookkeeping). */
  onFrame: (frame: ServerFrame) => void;
  /** What is shown may have missed events: reload it. */
  onResync: () => void;
  onState?: (state: LiveState) => void;
  open?: (url: string) => SocketLike;
  location?: { protocol: string; host: string };
  random?: () => number;
  schedule?: (run: () => void, ms: number) => unknown;
  cancel?: (timer: unknown) => void;
}

function hasSeq(frame: ServerFrame): frame is ServerFrame & { seq: number } {
  return typeof (frame as { seq?: unknown }).seq === 'number';
}

export class Live {
  private socket: SocketLike | null = null;
  private seq: number | null = null;
  private attempt = 0;
  private stopped = true;
  private timer: unknown = null;
  private state: LiveState = 'offline';

  constructor(private readonly options: LiveOptions) {}

  /** The `seq` of the last durable frame seen (resumes from there). */
  get lastSeq(): number | null {
    return this.seq;
  }

  get current(): LiveState {
    return this.state;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  /** Closes for good (sign-out, page gone). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) (this.options.cancel ?? clearTimeout)(this.timer as number);
    this.timer = null;
    this.socket?.close(1000);
    this.socket = null;
  }

  /** Sends a frame when connected; dropped otherwise (typing and presence are of the moment). */
  send(frame: ClientFrame): void {
    if (this.state === 'live') this.socket?.send(JSON.stringify(frame));
  }

  private setState(state: LiveState): void {
    if (this.state === state) return;
    this.state = state;
    this.options.onState?.(state);
  }

  private connect(): void {
    this.timer = null;
    this.setState('connecting');
    const location = this.options.location ?? window.location;
    const open = this.options.open ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
    const socket = open(socketUrl(location, this.seq));
    this.socket = socket;
    socket.onmessage = (event) => {
      if (this.socket === socket && typeof event.data === 'string') this.receive(event.data);
    };
    socket.onclose = (event) => {
      if (this.socket === socket) this.closed(event.code);
    };
  }

  private receive(text: string): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text) as ServerFrame;
    } catch {
      return;
    }
    if (hasSeq(frame)) this.seq = frame.seq;
    if (frame.type === 'hello' || frame.type === 'resync') {
      this.attempt = 0;
      this.setState('live');
    }
    if (frame.type === 'resync') this.options.onResync();
    this.options.onFrame(frame);
  }

  private closed(code: number): void {
    this.socket = null;
    if (this.stopped) return;
    if (code === SESSION_ENDED) {
      this.stopped = true;
      this.setState('signed-out');
      return;
    }
    this.setState('offline');
    const wait = backoff(this.attempt++, this.options.random);
    this.timer = (this.options.schedule ?? setTimeout)(() => this.connect(), wait);
  }
}

import { describe, expect, it } from 'vitest';

import { Live, type SocketLike, backoff, socketUrl, type ServerFrame } from './live';

class FakeSocket implements SocketLike {
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  sent: string[] = [];
  closedWith: number | undefined;
  constructor(readonly url: string) {}
  send(data: string): void {
    this.sent.push(data);
  }
  close(code?: number): void {
    this.closedWith = code;
  }
  frame(frame: object): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  drop(code = 1006): void {
    this.onclose?.({ code });
  }
}

function harness() {
  const sockets: FakeSocket[] = [];
  const timers: { run: () => void; ms: number }[] = [];
  const frames: ServerFrame[] = [];
  const states: string[] = [];
  let resyncs = 0;
  const live = new Live({
    onFrame: (frame) => frames.push(frame),
    onResync: () => (resyncs += 1),
    onState: (state) => states.push(state),
    open: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    location: { protocol: 'https:', host: 'plein.example' },
    random: () => 0.5,
    schedule: (run, ms) => timers.push({ run, ms }),
    cancel: () => undefined,
  });
  return { live, sockets, timers, frames, states, resyncs: () => resyncs };
}

describe('backoff', () => {
  it('doubles to a ceiling of 30 s and never waits less than half of it', () => {
    expect(backoff(0, () => 0)).toBe(250);
    expect(backoff(0, () => 1)).toBe(500);
    expect(backoff(3, () => 0)).toBe(2000);
    expect(backoff(20, () => 1)).toBe(30_000);
    expect(backoff(20, () => 0)).toBe(15_000);
  });
});

describe('socketUrl', () => {
  it('follows the page scheme and resumes after a seq', () => {
    expect(socketUrl({ protocol: 'https:', host: 'a.nl' }, null)).toBe('wss://a.nl/api/v1/ws');
    expect(socketUrl({ protocol: 'http:', host: 'a.nl:8080' }, 42)).toBe('ws://a.nl:8080/api/v1/ws?since=42');
  });
});

describe('Live', () => {
  it('resumes from the last seq it saw after a drop, with backoff', () => {
    const { live, sockets, timers, frames, states } = harness();
    live.start();
    expect(sockets[0]!.url).toBe('wss://plein.example/api/v1/ws');
    sockets[0]!.frame({ type: 'hello', seq: 10, person_id: 'p', resumed: false });
    sockets[0]!.frame({ type: 'post.created', seq: 11, post_id: 'x', group_id: 'g', author_id: 'a' });
    sockets[0]!.frame({ type: 'typing', conversation_id: 'c', person_id: 'p' });
    expect(live.lastSeq).toBe(11);
    sockets[0]!.drop();
    expect(states).toEqual(['connecting', 'live', 'offline']);
    expect(timers).toHaveLength(1);
    expect(timers[0]!.ms).toBe(375);
    timers[0]!.run();
    expect(sockets[1]!.url).toBe('wss://plein.example/api/v1/ws?since=11');
    expect(frames.map((frame) => frame.type)).toEqual(['hello', 'post.created', 'typing']);
  });

  it('tells the screens to reload on resync and stops when the session ended', () => {
    const { live, sockets, timers, resyncs, states } = harness();
    live.start();
    sockets[0]!.frame({ type: 'resync', seq: 5, reason: 'too old' });
    expect(resyncs()).toBe(1);
    expect(live.lastSeq).toBe(5);
    sockets[0]!.drop(4001);
    expect(states.at(-1)).toBe('signed-out');
    expect(timers).toHaveLength(0);
  });

  it('sends only while live and ignores what an old socket says', () => {
    const { live, sockets, frames } = harness();
    live.start();
    live.send({ type: 'ping' });
    expect(sockets[0]!.sent).toEqual([]);
    sockets[0]!.frame({ type: 'hello', seq: 1, person_id: 'p', resumed: false });
    live.send({ type: 'ping' });
    expect(sockets[0]!.sent).toEqual(['{"type":"ping"}']);
    live.stop();
    expect(sockets[0]!.closedWith).toBe(1000);
    sockets[0]!.frame({ type: 'pong' });
    expect(frames).toHaveLength(1);
  });
});

import { describe, expect, it, vi } from 'vitest';
import { Latest, debounce } from './latest';

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}

describe('Latest', () => {
  it('drops the answer of a request a newer one replaced, and aborts it', async () => {
    const latest = new Latest();
    const slow = deferred<string>();
    let firstSignal: AbortSignal | undefined;
    const first = latest.run((signal) => {
      firstSignal = signal;
      return slow.promise;
    });
    const second = latest.run(async () => 'new');
    slow.resolve('old');
    expect(await first).toBeUndefined();
    expect(await second).toBe('new');
    expect(firstSignal?.aborted).toBe(true);
  });

  it('swallows the abort error of a replaced request but not other errors', async () => {
    const latest = new Latest();
    const first = latest.run(
      (signal) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(new DOMException('x', 'AbortError')))),
    );
    latest.cancel();
    expect(await first).toBeUndefined();
    await expect(latest.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });
});

describe('debounce', () => {
  it('calls once with the last arguments after the quiet period', () => {
    vi.useFakeTimers();
    const calls: string[] = [];
    const typed = debounce((value: string) => calls.push(value), 120);
    typed('r');
    typed('ri');
    vi.advanceTimersByTime(100);
    typed('rij');
    vi.advanceTimersByTime(119);
    expect(calls).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(calls).toEqual(['rij']);
    typed('x');
    typed.cancel();
    vi.advanceTimersByTime(500);
    expect(calls).toEqual(['rij']);
    vi.useRealTimers();
  });
});

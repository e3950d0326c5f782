// Runs one request at a time per purpose (typeahead, results page): a new call aborts the one
// before it, so an answer to an old query can never overwrite the answer to a newer one.

export class Latest {
  private controller: AbortController | null = null;
  private generation = 0;

  /**
   * Runs `task` after cancelling whatever ran before. Resolves with its value, or with
   * `undefined` when a newer call superseded it.
   */
  async run<T>(task: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    const generation = ++this.generation;
    try {
      const value = await task(controller.signal);
      return generation === this.generation ? value : undefined;
    } catch (error) {
      if (controller.signal.aborted || generation !== this.generation) return undefined;
      throw error;
    }
  }

  cancel(): void {
    this.generation++;
    this.controller?.abort();
    this.controller = null;
  }
}

/** Calls `fn` once `wait` ms have passed without another call. */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, wait: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const debounced = (...args: A) => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      fn(...args);
    }, wait);
  };
  debounced.cancel = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  return debounced;
}

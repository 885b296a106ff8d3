/** A stream's inbound messages as an async iterable, pausing the HTTP/2 stream while its queue is full
 * (on the server, a bidi call's requests; in the client, a call's responses). */
interface Pausable {
  pause(): unknown;
  resume(): unknown;
}

const queuedMax = 64;

export class InboundQueue<T> implements AsyncIterable<T> {
  private readonly queue: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | undefined;
  private failWaiting: ((error: Error) => void) | undefined;
  private ended = false;
  private failure: Error | undefined;

  constructor(private readonly stream: Pausable) {}

  push(message: T): void {
    if (this.waiting !== undefined) {
      const resolve = this.waiting;
      this.waiting = this.failWaiting = undefined;
      resolve({ value: message, done: false });
      return;
    }
    this.queue.push(message);
    if (this.queue.length >= queuedMax) this.stream.pause();
  }

  /** No more messages: after the queued ones, the iteration ends (or throws `failure`). */
  end(failure?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = failure;
    if (this.waiting === undefined) return;
    const resolve = this.waiting;
    const reject = this.failWaiting!;
    this.waiting = this.failWaiting = undefined;
    if (failure === undefined) resolve({ value: undefined, done: true });
    else reject(failure);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const message = this.queue.shift();
        if (message !== undefined) {
          if (this.queue.length === queuedMax / 2) this.stream.resume();
          return Promise.resolve({ value: message, done: false });
        }
        if (this.ended)
          return this.failure === undefined
            ? Promise.resolve({ value: undefined, done: true })
            : Promise.reject(this.failure);
        return new Promise((resolve, reject) => {
          this.waiting = resolve;
          this.failWaiting = reject;
        });
      },
      return: () => {
        this.ended = true;
        this.queue.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

interface Entry {
  readonly id: number;
  readonly at: number;
}

/**
 * Each lease's deadline, and the leases in deadline order so the expiry check looks only at the
 * ones due. A keepalive moves a deadline by pushing a new heap entry; the old one is skipped when it
 * surfaces, and the heap is rebuilt when such leftovers outnumber the leases.
 */
export class DeadlineQueue {
  readonly #deadlines = new Map<number, number>();
  #heap: Entry[] = [];

  get size(): number {
    return this.#deadlines.size;
  }

  get(id: number): number | undefined {
    return this.#deadlines.get(id);
  }

  entries(): IterableIterator<[number, number]> {
    return this.#deadlines.entries();
  }

  set(id: number, at: number): void {
    this.#deadlines.set(id, at);
    this.#push({ id, at });
    if (this.#heap.length > 2 * this.#deadlines.size + 64) this.#rebuild();
  }

  delete(id: number): void {
    this.#deadlines.delete(id);
  }

  clear(): void {
    this.#deadlines.clear();
    this.#heap = [];
  }

  /** Puts `id` back in line at its deadline (its revoke failed), if it still has one. */
  requeue(id: number): void {
    const at = this.#deadlines.get(id);
    if (at !== undefined) this.#push({ id, at });
  }

  /** The lease whose deadline passed first, at or before `now`, taken out of the line (its deadline stays). */
  takeExpired(now: number): number | undefined {
    for (;;) {
      const top = this.#heap[0];
      if (top === undefined) return undefined;
      const live = this.#deadlines.get(top.id) === top.at;
      if (live && top.at > now) return undefined;
      this.#pop();
      if (live) return top.id;
    }
  }

  #rebuild(): void {
    this.#heap = [];
    for (const [id, at] of this.#deadlines) this.#push({ id, at });
  }

  #push(entry: Entry): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= entry.at) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.at < heap[left]!.at ? right : left;
      if (heap[child]!.at >= last.at) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
}

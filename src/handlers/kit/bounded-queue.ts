/** Below this many dead slots at the front the array is not worth compacting. */
const COMPACT_MIN_HEAD = 1024;

/** Bounds of a {@link BoundedQueue}. */
export interface QueueBounds<T> {
  /** Most items held. */
  readonly maxItems: number;
  /** Most total size held, as measured by `sizeOf` (characters, bytes). */
  readonly maxSize?: number;
  /** An item's size; without it every item is size 0 and only `maxItems` applies. */
  readonly sizeOf?: (item: T) => number;
}

/**
 * A FIFO with O(1) `shift` that, when over its bounds, pushes the oldest items out and counts them
 * exactly. The newest item always stays, even alone over `maxSize`: a caller can split it later, and
 * dropping the record that was just handed over would hide the latest news behind older news.
 *
 * @example
 * ```ts
 * const queue = new BoundedQueue<string>({ maxItems: 1000, maxSize: 1e6, sizeOf: (s) => s.length });
 * const evicted = queue.push(line); // how many oldest lines made room for it
 * ```
 */
export class BoundedQueue<T> {
  readonly #maxItems: number;
  readonly #maxSize: number;
  readonly #sizeOf: ((item: T) => number) | undefined;
  #items: T[] = [];
  #head = 0;
  #size = 0;
  #evicted = 0;

  constructor(bounds: QueueBounds<T>) {
    this.#maxItems = bounds.maxItems;
    this.#maxSize = bounds.maxSize ?? Number.POSITIVE_INFINITY;
    this.#sizeOf = bounds.sizeOf;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Total size of what is held. */
  get size(): number {
    return this.#size;
  }

  /** Items pushed out by the bounds since construction. */
  get evicted(): number {
    return this.#evicted;
  }

  /** Appends `item`; returns how many of the oldest items it pushed out. */
  push(item: T): number {
    this.#items.push(item);
    this.#size += this.#measure(item);
    return this.trim();
  }

  /** Puts `items` back in front, in their order (records whose connection broke); no trimming. */
  unshiftAll(items: readonly T[]): void {
    if (items.length === 0) return;
    this.#items = items.concat(this.#items.slice(this.#head));
    this.#head = 0;
    for (const item of items) this.#size += this.#measure(item);
  }

  /** Pushes out the oldest items until the bounds hold again; returns how many. */
  trim(): number {
    let evicted = 0;
    while (this.length > 1 && (this.length > this.#maxItems || this.#size > this.#maxSize)) {
      this.shift();
      evicted++;
    }
    this.#evicted += evicted;
    return evicted;
  }

  peek(): T | undefined {
    return this.length > 0 ? this.#items[this.#head] : undefined;
  }

  /** Replaces the oldest item (the rest of one that was partly taken). */
  replaceHead(item: T): void {
    if (this.length === 0) return;
    this.#size += this.#measure(item) - this.#measure(this.#items[this.#head]!);
    this.#items[this.#head] = item;
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.#items[this.#head]!;
    // The slot is cleared so a dropped record's memory is freed before the next compaction.
    this.#items[this.#head] = undefined as T;
    this.#head++;
    this.#size -= this.#measure(item);
    // Compacting when half is dead keeps memory bounded at an amortised O(1) per item.
    if (this.#head >= COMPACT_MIN_HEAD && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Takes up to `count` items from the front, oldest first. */
  take(count: number): T[] {
    const taken = this.#items.slice(this.#head, this.#head + count);
    for (let i = 0; i < taken.length; i++) this.shift();
    return taken;
  }

  /** Empties the queue and returns what it held, oldest first. */
  clear(): T[] {
    const rest = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    this.#size = 0;
    return rest;
  }

  #measure(item: T): number {
    return this.#sizeOf === undefined ? 0 : this.#sizeOf(item);
  }
}

import { BoundedQueue } from "../kit/bounded-queue.js";
import { plural } from "../kit/drop-reporter.js";

/** One request's worth of lines, taken off a {@link LineQueue}. */
export interface Message {
  readonly text: string;
  /** Entries whose last piece is in this message. */
  readonly lines: number;
  /** Entries completed here that had an earlier piece fail (they count as failed, not sent). */
  readonly damagedLines: number;
  /** True when the message ends with a piece of an entry that continues in the next one. */
  readonly endsPartial: boolean;
}

/** How a message is shaped: room for text, where a long entry may be cut, and its wrapping. */
export interface MessageShape {
  readonly room: number;
  cut(text: string, max: number): number;
  wrap(text: string): string;
}

/** Index at which to cut `text` so the first part has at most `max` UTF-16 units and ends no pair. */
export function cutIndex(text: string, max: number): number {
  if (text.length <= max) return text.length;
  // Prefer the last newline inside a multi-line record: the cut then falls on a line boundary.
  const newline = text.lastIndexOf("\n", max);
  if (newline > 0) return newline;
  let at = Math.max(1, max);
  const code = text.charCodeAt(at - 1);
  // Never separate a high surrogate from the low surrogate after it.
  if (code >= 0xd800 && code <= 0xdbff && at > 1) at--;
  return at;
}

/**
 * The chat handlers' pending lines, bounded by lines and characters, packed into messages: whole
 * lines while they fit, a piece of one that cannot. Lines pushed out by the bounds are counted
 * exactly and announced by a summary line at the front of the next message.
 */
export class LineQueue {
  readonly #lines: BoundedQueue<string>;
  /** Whether the head entry had an earlier piece fail (then it counts as failed, not sent). */
  #headDamaged = false;
  /** Lines pushed out since the last summary line went into a message. */
  #unannounced = 0;
  /** performance.now() when the oldest queued line arrived into an empty queue. */
  firstQueuedAt = 0;

  constructor(maxLines: number, maxChars: number) {
    this.#lines = new BoundedQueue<string>({
      maxItems: maxLines,
      maxSize: maxChars,
      sizeOf: (s) => s.length,
    });
  }

  get length(): number {
    return this.#lines.length;
  }

  get chars(): number {
    return this.#lines.size;
  }

  /** Lines pushed out by the bounds, in total. */
  get suppressed(): number {
    return this.#lines.evicted;
  }

  push(line: string): void {
    if (this.#lines.length === 0) this.firstQueuedAt = performance.now();
    const evicted = this.#lines.push(line);
    if (evicted > 0) {
      this.#headDamaged = false;
      this.#unannounced += evicted;
    }
  }

  /** A message's last piece failed: the rest of its entry, still at the head, counts as failed. */
  damageHead(): void {
    this.#headDamaged = true;
  }

  /** Lines pushed out and not yet announced; reading resets the count. */
  takeUnannounced(): number {
    const count = this.#unannounced;
    this.#unannounced = 0;
    return count;
  }

  /** Empties the queue; returns how many entries it held. */
  discard(): number {
    this.#headDamaged = false;
    return this.#lines.clear().length;
  }

  /**
   * Takes the next message: first a summary of lines suppressed since the last one (its count in
   * `announced`), then whole lines while they fit, then a piece of one that does not.
   */
  take(shape: MessageShape): { message: Message | undefined; announced: number } {
    const room = shape.room;
    const parts: string[] = [];
    let used = 0;
    let lines = 0;
    let damagedLines = 0;
    let endsPartial = false;
    const announced = this.takeUnannounced();
    if (announced > 0) {
      const summary = `… ${plural(announced, "earlier line")} suppressed (queue full)`;
      parts.push(summary);
      used = summary.length;
    }
    for (let line = this.#lines.peek(); line !== undefined; line = this.#lines.peek()) {
      const separator = parts.length > 0 ? 1 : 0;
      if (used + separator + line.length <= room) {
        parts.push(line);
        used += separator + line.length;
        if (this.#headDamaged) damagedLines++;
        lines++;
        this.#lines.shift();
        this.#headDamaged = false;
        continue;
      }
      // A line that fits in a message of its own starts the next one; only a longer one is cut.
      if (line.length <= room && parts.length > 0) break;
      const available = room - used - separator;
      if (available < Math.min(room, 64) && parts.length > 0) break;
      const at = shape.cut(line, available);
      parts.push(line.slice(0, at));
      // A cut on a newline consumes it: the next message starts with the next line of the record.
      this.#lines.replaceHead(line.charCodeAt(at) === 0x0a ? line.slice(at + 1) : line.slice(at));
      endsPartial = true;
      break;
    }
    if (parts.length === 0) return { message: undefined, announced };
    return { message: { text: shape.wrap(parts.join("\n")), lines, damagedLines, endsPartial }, announced };
  }
}

/**
 * Plain records (a string message, and at most the fixed bindings of a child logger) held between
 * the log call and the batch. The call stores the time, the level and two references; copying the
 * text into the batch (the binding call, most of what a call cost) happens on the next turn of the
 * event loop, in {@link WorkerLogger}'s drain, in the order the calls were made. This is safe
 * because a JavaScript string cannot change after the call, and a child's section is encoded once
 * and never written again; a call with fields or arguments is encoded at once, since the objects
 * it was given can change, after the queue is drained so order holds.
 *
 * The references go into an array made afresh each time the queue empties. A long-lived array
 * would be in V8's old space, and storing a young string there takes the write barrier's slow path
 * and a remembered-set entry the next scavenge must visit (measured: ~100 instructions a record).
 * The new array is made the size the last one reached, since growing one by `push` leaves three
 * times its size in garbage, which tripled the scavenges in a 100k-call run and with them the
 * slowest blocks of calls.
 */
/** Room for a few records: a logger that logs one line per turn allocates a small array per turn. */
const MIN_REFS = 16;

export class PlainQueue {
  readonly times: Float64Array;
  readonly levels: Uint8Array;
  messages: string[] = new Array(MIN_REFS);
  /** A child's bindings, or undefined, for each of {@link messages}. */
  sections: (Uint8Array | undefined)[] = new Array(MIN_REFS);
  /** The oldest record not yet copied. */
  head = 0;
  /** Records pushed since the queue was last empty (copied ones included). */
  end = 0;

  /** @param capacity the most records pushed between two times the queue is empty. */
  constructor(capacity: number) {
    this.times = new Float64Array(capacity);
    this.levels = new Uint8Array(capacity);
  }

  /** Records held. */
  get count(): number {
    return this.end - this.head;
  }

  /**
   * Adds a record after the newest; the caller keeps `end` below the capacity. Returns `count`.
   * WorkerLogger.emitPlain writes these same four stores itself (see there for why); this is the
   * reference it must match, and what the tests drive.
   */
  push(timeMs: number, level: number, message: string, section: Uint8Array | undefined): number {
    const at = this.end;
    this.times[at] = timeMs;
    this.levels[at] = level;
    this.messages[at] = message;
    this.sections[at] = section;
    this.end = at + 1;
    return at + 1 - this.head;
  }

  /** Marks the records before `head` copied; once all are, starts over with a new array. */
  advance(head: number): void {
    if (head < this.end) {
      this.head = head;
      return;
    }
    this.head = 0;
    const size = Math.max(MIN_REFS, this.end);
    this.messages = new Array(size);
    this.sections = new Array(size);
    this.end = 0;
  }
}

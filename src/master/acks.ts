import { encodeAck } from "../protocol/encoder.js";
import type { CommitJournal } from "./journal.js";
import type { Instance } from "./registry.js";

/**
 * Acknowledgements: which batch of which worker each ticket carries, and, as the handlers settle
 * tickets, the commit of each worker's batches (first in the journal on disk, so a restarted master
 * knows them, then an ACK to whichever connection the worker has by then). A worker drops a batch
 * only on its ACK, so nothing is acknowledged before every handler that is not stalled has it.
 */
export class Acks {
  /** Instances with batches dispatched but not yet committed. */
  readonly #awaiting = new Set<Instance>();
  #journal: CommitJournal | undefined;

  /** From the master that holds the socket, once the journal is open (or never, when refused). */
  useJournal(journal: CommitJournal): void {
    this.#journal = journal;
  }

  /** The committed seq the journal remembers for an instance (0 when unknown). */
  committed(instanceId: string): number {
    return this.#journal?.committed(instanceId) ?? 0;
  }

  isAwaiting(instance: Instance): boolean {
    return this.#awaiting.has(instance);
  }

  /** A socket batch of `instance` went to the handlers under `ticket`. */
  track(instance: Instance, ticket: number, seq: number): void {
    instance.pendingAcks.push({ ticket, seq });
    this.#awaiting.add(instance);
  }

  /** Commits, journals and acknowledges every tracked batch whose ticket is at most `ackable`. */
  settled(ackable: number): void {
    for (const instance of this.#awaiting) {
      const pending = instance.pendingAcks;
      let head = instance.ackHead;
      let seq = -1;
      while (head < pending.length && pending[head]!.ticket <= ackable) seq = pending[head++]!.seq;
      if (seq < 0) continue;
      if (head === pending.length) {
        pending.length = 0;
        head = 0;
        this.#awaiting.delete(instance);
      }
      instance.ackHead = head;
      this.commit(instance, seq);
      const session = instance.session;
      if (session !== undefined && !session.closed) {
        session.socket.write(encodeAck(seq));
        session.finishIfDone();
      }
    }
  }

  /** Records that the instance's batches up to `seq` are committed, journal included. */
  commit(instance: Instance, seq: number): void {
    if (seq <= instance.committedSeq) return;
    instance.committedSeq = seq;
    this.#journal?.record(instance.id, seq);
  }

  close(): void {
    this.#journal?.close();
  }
}

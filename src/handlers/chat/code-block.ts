/** Markdown code fence; Discord and Slack both render text between two as a code block. */
const FENCE = "```";
/** A fence with zero-width spaces between its backticks: shown the same, but inert. */
const INERT_FENCE = "`\u200b`\u200b`";

/**
 * The `codeBlock` option of Discord and Slack: wraps each message in fences, and keeps a fence inside
 * a line from ending the block early.
 */
export class CodeBlock {
  readonly #on: boolean;

  constructor(on: boolean | undefined) {
    this.#on = on ?? false;
  }

  /** A line with any fence made inert (when on). */
  escape(line: string): string {
    return this.#on && line.includes(FENCE) ? line.replaceAll(FENCE, INERT_FENCE) : line;
  }

  wrap(text: string): string {
    return this.#on ? `${FENCE}\n${text}\n${FENCE}` : text;
  }

  /** Characters {@link wrap} adds: two fences and two newlines. */
  get overhead(): number {
    return this.#on ? FENCE.length * 2 + 2 : 0;
  }
}

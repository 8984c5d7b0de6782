// The Prometheus text exposition format, version 0.0.4, as far as logmux needs it: counters and
// gauges with HELP and TYPE lines and escaped label values.
// https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format

/** What a scrape response says it is; Prometheus picks its parser by it. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type MetricType = "counter" | "gauge";

export type Labels = Readonly<Record<string, string>>;

/** A label value as the format requires: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\\" ? "\\\\" : c === '"' ? '\\"' : "\\n"));
}

/** HELP text escapes only backslash and line feed (a quote is literal there). */
function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === "\\" ? "\\\\" : "\\n"));
}

/** A sample value: Go's ParseFloat reads JavaScript's number text, except for the non-finite ones. */
function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

/**
 * Builds one scrape's body. Each metric family is written whole (HELP, TYPE, then its samples),
 * as the format requires: a family's samples may not be split by another family.
 */
export class Exposition {
  readonly #lines: string[] = [];
  readonly #families = new Set<string>();

  /** Writes a family and its samples; a family with no samples still tells what it would hold. */
  family(
    name: string,
    type: MetricType,
    help: string,
    samples: Iterable<readonly [Labels | undefined, number]>,
  ): void {
    if (this.#families.has(name)) throw new Error(`metric family ${name} written twice`);
    this.#families.add(name);
    this.#lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      this.#lines.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
    }
  }

  /** One family with a single unlabelled sample. */
  single(name: string, type: MetricType, help: string, value: number): void {
    this.family(name, type, help, [[undefined, value]]);
  }

  text(): string {
    return `${this.#lines.join("\n")}\n`;
  }
}

function formatLabels(labels: Labels | undefined): string {
  if (labels === undefined) return "";
  const parts: string[] = [];
  for (const [name, value] of Object.entries(labels)) parts.push(`${name}="${escapeLabelValue(value)}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

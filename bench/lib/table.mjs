// A table is { title, columns: [{ key, label, align? }], rows: [{ [key]: string }], notes: [string] }.
// The same object renders to the console and to Markdown for docs/benchmarks.md.

const cell = (row, key) => (row[key] === undefined || row[key] === null ? "" : String(row[key]));

export function renderText(table) {
  const widths = table.columns.map((c) =>
    Math.max(c.label.length, ...table.rows.map((r) => cell(r, c.key).length)),
  );
  const line = (values) =>
    values
      .map((v, i) => (table.columns[i].align === "left" ? v.padEnd(widths[i]) : v.padStart(widths[i])))
      .join("  ");
  const out = [`\n== ${table.title} ==`];
  out.push(line(table.columns.map((c) => c.label)));
  out.push(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of table.rows) out.push(line(table.columns.map((c) => cell(row, c.key))));
  for (const note of table.notes ?? []) out.push(`  * ${note}`);
  return out.join("\n");
}

export function renderMarkdown(table, level = 3) {
  const esc = (s) => s.replaceAll("|", "\\|");
  const out = [`${"#".repeat(level)} ${table.title}`, ""];
  out.push(`| ${table.columns.map((c) => esc(c.label)).join(" | ")} |`);
  out.push(`| ${table.columns.map((c) => (c.align === "left" ? ":---" : "---:")).join(" | ")} |`);
  for (const row of table.rows)
    out.push(`| ${table.columns.map((c) => esc(cell(row, c.key))).join(" | ")} |`);
  if (table.notes?.length) {
    out.push("");
    for (const note of table.notes) out.push(`- ${note}`);
  }
  out.push("");
  return out.join("\n");
}

/**
 * Plain-text tables and numbers for the terminal: stats, stories, benchmarks.
 *
 * @module
 */

/** A cell: text is left-aligned, numbers (already formatted as text by the caller or raw) right-aligned. */
export type Cell = string | number;

/** Renders rows under a header, columns padded to their widest cell. */
export function renderTable(
  header: readonly string[],
  rows: readonly (readonly Cell[])[],
): string[] {
  const text = [header, ...rows].map((row) =>
    row.map((cell) => (typeof cell === "number" ? formatNumber(cell) : cell)),
  );
  const numeric = header.map(
    (_, column) => rows.length > 0 && rows.every((row) => isNumeric(row[column])),
  );
  const widths = header.map((_, column) =>
    Math.max(...text.map((row) => (row[column] ?? "").length)),
  );
  const render = (row: readonly string[]) =>
    row
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        return numeric[column] ? cell.padStart(width) : cell.padEnd(width);
      })
      .join("  ")
      .trimEnd();
  const [head = [], ...body] = text;
  return [render(head), widths.map((width) => "-".repeat(width)).join("  "), ...body.map(render)];
}

/** A number, or "–" where a row has none (a column of numbers stays right-aligned). */
function isNumeric(cell: Cell | undefined): boolean {
  return (
    typeof cell === "number" ||
    cell === "–" ||
    (typeof cell === "string" && /^[-+×]?[\d,.]+\s*[a-z%/×]*$/i.test(cell.trim()))
  );
}

/** 1234.5 → "1,235"; 12.34 → "12.3"; 0.1234 → "0.123". */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const digits =
    Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : Math.abs(value) >= 1 ? 2 : 3;
  return value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** A ratio as "×2.31" (how many times `value` is `baseline`). */
export function formatRatio(value: number, baseline: number): string {
  if (baseline === 0 || !Number.isFinite(value / baseline)) return "–";
  return `×${formatNumber(value / baseline)}`;
}

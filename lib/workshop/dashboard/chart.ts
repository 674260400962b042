/**
 * The page's live chart: a small SVG of the last minute, drawn on the server
 * with every refresh.
 *
 * Not `renderLineChart` of the benchmark report: that one labels every x
 * value and marks every point, right for six sizes of a benchmark, a thicket
 * for sixty readings. This one draws bare lines over a time axis, and shares
 * the report's colours and escaping.
 *
 * @module
 */
import { escapeXml, STEP_COLOURS } from "../docs/svg-chart.ts";
import { formatNumber } from "../format.ts";
import type { Series } from "./history.ts";

const WIDTH = 500;
const HEIGHT = 170;
const PLOT = { left: 48, right: 140, top: 24, bottom: 26 };

/** A line chart of `series` over `secondsAgo` (one x per reading, ≤ 0, oldest first). */
export function renderTimeChart(
  title: string,
  secondsAgo: readonly number[],
  series: readonly Series[],
): string {
  const values = series.flatMap((line) =>
    line.values.filter((value): value is number => value !== null),
  );
  const top = niceCeiling(Math.max(1, ...values));
  const plotWidth = WIDTH - PLOT.left - PLOT.right;
  const plotHeight = HEIGHT - PLOT.top - PLOT.bottom;
  const span = Math.max(10, -(secondsAgo[0] ?? 0));
  const xOf = (seconds: number) => PLOT.left + plotWidth * (1 + seconds / span);
  const yOf = (value: number) => PLOT.top + plotHeight * (1 - value / top);
  const parts = [
    `<text x="8" y="15" font-size="13" font-weight="600">${escapeXml(title)}</text>`,
    `<line x1="${PLOT.left}" y1="${yOf(0)}" x2="${PLOT.left + plotWidth}" y2="${yOf(0)}" stroke="#888"/>`,
    `<line x1="${PLOT.left}" y1="${yOf(top)}" x2="${PLOT.left + plotWidth}" y2="${yOf(top)}" stroke="#ddd"/>`,
    `<text x="${PLOT.left - 6}" y="${yOf(top) + 4}" font-size="11" text-anchor="end">${formatNumber(top)}</text>`,
    `<text x="${PLOT.left - 6}" y="${yOf(0) + 4}" font-size="11" text-anchor="end">0</text>`,
    `<text x="${PLOT.left}" y="${HEIGHT - 6}" font-size="11">${formatNumber(-span)} s</text>`,
    `<text x="${PLOT.left + plotWidth}" y="${HEIGHT - 6}" font-size="11" text-anchor="end">now</text>`,
  ];
  series.forEach((line, index) => {
    const colour = STEP_COLOURS[index % STEP_COLOURS.length] ?? "#333";
    const points = line.values.flatMap((value, i) => {
      const seconds = secondsAgo[i];
      return value === null || seconds === undefined
        ? []
        : [`${xOf(seconds).toFixed(1)},${yOf(value).toFixed(1)}`];
    });
    const latest = line.values.at(-1);
    const labelY = PLOT.top + 12 + index * 16;
    parts.push(
      `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points.join(" ")}"/>`,
      `<rect x="${PLOT.left + plotWidth + 10}" y="${labelY - 8}" width="10" height="10" fill="${colour}"/>`,
      `<text x="${PLOT.left + plotWidth + 24}" y="${labelY + 1}" font-size="11">${escapeXml(line.label)}${latest === null || latest === undefined ? "" : ` ${formatNumber(latest)}`}</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeXml(title)}" font-family="system-ui, sans-serif">${parts.join("")}</svg>`;
}

/** 1, 2, 5, 10, 20, 50, …: the smallest at or above `value`, so the top line reads as a round number. */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/**
 * Small, dependency-free SVG charts for the benchmark report: grouped bars
 * and lines, with labelled axes, units, one colour per step and a legend.
 *
 * Hand-written SVG rather than a charting library: the charts are simple, the
 * output is a static file committed with the docs, and a library would bring
 * a browser or a canvas into a project about job queues.
 *
 * @module
 */
import { formatNumber } from "../format.ts";

/** One colour per step, in step order (Tableau 10: distinct, and readable by most colour-blind readers). */
export const STEP_COLOURS = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
];

export interface BarChart {
  readonly title: string;
  /** The value axis, with its unit: "jobs per second". */
  readonly valueLabel: string;
  /** One group of bars per category (a step), each with its colour. */
  readonly categories: readonly {
    readonly label: string;
    readonly colour: string;
    readonly highlight?: boolean;
  }[];
  /** One bar per series in each group (e.g. p50, p95, p99); values[category]. */
  readonly series: readonly {
    readonly label: string;
    readonly values: readonly (number | null)[];
  }[];
  /** Draw the value axis on a log scale (values far apart). */
  readonly logarithmic?: boolean;
}

export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly valueLabel: string;
  /** Draw the value axis on a log scale: equal ratios look equal, so "flat" is visible at any size. */
  readonly logarithmic?: boolean;
  readonly x: readonly number[];
  readonly lines: readonly {
    readonly label: string;
    readonly colour: string;
    readonly values: readonly (number | null)[];
  }[];
}

const WIDTH = 760;
const HEIGHT = 380;
const MARGIN = { top: 48, right: 180, bottom: 64, left: 84 };
/**
 * How much lower the step numbers go, and how much taller the chart gets,
 * when series labels sit between them and the axis.
 */
const SERIES_LABEL_DEPTH = 34;
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';

export function renderBarChart(chart: BarChart): string {
  const values = chart.series
    .flatMap((series) => series.values)
    .filter((value): value is number => value !== null);
  const scale = valueScale(values, chart.logarithmic === true);
  const groupWidth = PLOT_W / Math.max(1, chart.categories.length);
  const barWidth = Math.min(48, (groupWidth * 0.8) / Math.max(1, chart.series.length));
  const multiSeries = chart.series.length > 1;
  const parts: string[] = [];
  chart.categories.forEach((category, c) => {
    const groupLeft =
      MARGIN.left + c * groupWidth + (groupWidth - barWidth * chart.series.length) / 2;
    chart.series.forEach((series, s) => {
      const value = series.values[c];
      if (value === null || value === undefined) return;
      const x = groupLeft + s * barWidth;
      const y = scale.y(value);
      const opacity =
        chart.series.length > 1 ? 1 - s * (0.55 / Math.max(1, chart.series.length - 1)) : 1;
      const stroke = category.highlight ? ' stroke="#222" stroke-width="2"' : "";
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(MARGIN.top + PLOT_H - y).toFixed(1)}" fill="${category.colour}" fill-opacity="${opacity.toFixed(2)}"${stroke}><title>${escapeXml(`${category.label} ${series.label}: ${formatNumber(value)}`)}</title></rect>`,
        `<text x="${(x + barWidth / 2 - 1).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle" font-size="10" ${FONT}>${formatNumber(value)}</text>`,
      );
      // Several series: each bar says which it is, under the axis (slanted
      // to fit), so the shades need no decoding through the legend.
      if (multiSeries) {
        parts.push(
          `<text transform="translate(${(x + barWidth / 2).toFixed(1)} ${MARGIN.top + PLOT_H + 6}) rotate(-45)" text-anchor="end" font-size="9" fill="#555" ${FONT}>${escapeXml(series.label)}</text>`,
        );
      }
    });
    parts.push(
      `<text x="${(MARGIN.left + c * groupWidth + groupWidth / 2).toFixed(1)}" y="${MARGIN.top + PLOT_H + 18 + (multiSeries ? SERIES_LABEL_DEPTH : 0)}" text-anchor="middle" font-size="12" ${FONT}${category.highlight ? ' font-weight="bold"' : ""}>${escapeXml(category.label.split(" ")[0] ?? "")}</text>`,
    );
  });
  // Under the bars only the step number (the first word of a label): seven
  // full names do not fit side by side, so the legend spells them out.
  const shades = chart.series.map((series, s) => ({
    label: series.label,
    colour: "#555",
    opacity: 1 - s * (0.55 / Math.max(1, chart.series.length - 1)),
  }));
  const legend = [
    ...chart.categories.map((category) => ({
      label: category.label,
      colour: category.colour,
      opacity: 1,
    })),
    ...(chart.series.length > 1 ? shades : []),
  ];
  const height = HEIGHT + (multiSeries ? SERIES_LABEL_DEPTH : 0);
  return frame(chart.title, chart.valueLabel, "step", scale, parts, legend, height);
}

export function renderLineChart(chart: LineChart): string {
  const values = chart.lines
    .flatMap((line) => line.values)
    .filter((value): value is number => value !== null);
  const scale = valueScale(values, chart.logarithmic === true);
  const xMax = Math.max(...chart.x, 1);
  const xOf = (x: number) => MARGIN.left + (x / xMax) * PLOT_W;
  const parts: string[] = [];
  for (const x of chart.x) {
    parts.push(
      `<line x1="${xOf(x).toFixed(1)}" y1="${MARGIN.top + PLOT_H}" x2="${xOf(x).toFixed(1)}" y2="${MARGIN.top + PLOT_H + 5}" stroke="#444"/>`,
      `<text x="${xOf(x).toFixed(1)}" y="${MARGIN.top + PLOT_H + 18}" text-anchor="middle" font-size="11" ${FONT}>${formatNumber(x)}</text>`,
    );
  }
  for (const line of chart.lines) {
    const points = chart.x.flatMap((x, i) => {
      const value = line.values[i];
      return value === null || value === undefined ? [] : [[xOf(x), scale.y(value)] as const];
    });
    parts.push(
      `<polyline fill="none" stroke="${line.colour}" stroke-width="2.5" points="${points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ")}"/>`,
      ...points.map(
        ([x, y]) =>
          `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3.5" fill="${line.colour}"/>`,
      ),
    );
  }
  const legend = chart.lines.map((line) => ({
    label: line.label,
    colour: line.colour,
    opacity: 1,
  }));
  return frame(chart.title, chart.valueLabel, chart.xLabel, scale, parts, legend, HEIGHT);
}

interface Scale {
  y(value: number): number;
  ticks: number[];
}

function valueScale(values: readonly number[], logarithmic: boolean): Scale {
  const max = Math.max(...values, 0) || 1;
  if (logarithmic) {
    const positive = values.filter((value) => value > 0);
    const low = 10 ** Math.floor(Math.log10(Math.min(...positive, max)));
    const high = 10 ** Math.ceil(Math.log10(max));
    const span = Math.log10(high) - Math.log10(low) || 1;
    const ticks: number[] = [];
    for (let tick = low; tick <= high; tick *= 10) ticks.push(tick);
    return {
      ticks,
      y: (value) =>
        MARGIN.top +
        PLOT_H -
        ((Math.log10(Math.max(value, low)) - Math.log10(low)) / span) * PLOT_H,
    };
  }
  const step = niceStep(max / 5);
  const top = Math.ceil(max / step) * step;
  const ticks = Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step);
  return { ticks, y: (value) => MARGIN.top + PLOT_H - (value / top) * PLOT_H };
}

/** 1, 2 or 5 times a power of ten, the nearest above `raw`. */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

function frame(
  title: string,
  valueLabel: string,
  xLabel: string,
  scale: Scale,
  body: readonly string[],
  legend: readonly { label: string; colour: string; opacity: number }[],
  height: number,
): string {
  const grid = scale.ticks.flatMap((tick) => {
    const y = scale.y(tick).toFixed(1);
    return [
      `<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + PLOT_W}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${MARGIN.left - 8}" y="${y}" dy="4" text-anchor="end" font-size="11" ${FONT}>${formatNumber(tick)}</text>`,
    ];
  });
  const legendItems = legend.flatMap((item, i) => {
    const y = MARGIN.top + 8 + i * 20;
    const x = MARGIN.left + PLOT_W + 20;
    return [
      `<rect x="${x}" y="${y - 10}" width="14" height="14" fill="${item.colour}" fill-opacity="${item.opacity.toFixed(2)}"/>`,
      `<text x="${x + 20}" y="${y + 1}" font-size="12" ${FONT}>${escapeXml(item.label)}</text>`,
    ];
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="${escapeXml(title)}">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="${MARGIN.left}" y="28" font-size="16" font-weight="bold" ${FONT}>${escapeXml(title)}</text>`,
    ...grid,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + PLOT_H}" x2="${MARGIN.left + PLOT_W}" y2="${MARGIN.top + PLOT_H}" stroke="#444"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + PLOT_H}" stroke="#444"/>`,
    `<text transform="translate(20 ${MARGIN.top + PLOT_H / 2}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(valueLabel)}</text>`,
    `<text x="${MARGIN.left + PLOT_W / 2}" y="${height - 14}" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(xLabel)}</text>`,
    ...body,
    ...legendItems,
    "</svg>",
    "",
  ].join("\n");
}

function escapeXml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

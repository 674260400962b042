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

/**
 * One colour per step, in step order: Tableau 10 (distinct, and readable by most colour-blind
 * readers) for the first ten, then Tableau 20's lighter and darker companions for the advanced
 * steps, so no two steps of one chart share a colour. (Cycling the ten would paint 11 like 01.)
 */
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
  "#a0cbe8",
  "#ffbe7d",
  "#8cd17d",
  "#499894",
  "#d37295",
  "#b6992d",
  "#d4a6c8",
  "#86bcb6",
  "#f1ce63",
  "#79706e",
];

export interface BarChart {
  readonly title: string;
  /** The value axis, with its unit: "jobs per second". */
  readonly valueLabel: string;
  /** One group of bars per category (a step), each with its colour. */
  readonly categories: readonly {
    readonly label: string;
    /**
     * What is written under the group; defaults to the label's first word, the step number.
     * A chart of one step's variants names them here ("1 batch"), or every group reads "14".
     */
    readonly axisLabel?: string;
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
  /**
   * What the legend lists; defaults to one entry per category. A chart whose
   * bars are variants of one step in one colour names that step once ("10
   * throughput") instead of listing ten red squares.
   */
  readonly legend?: readonly { readonly label: string; readonly colour: string }[];
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
 * when series labels sit between them and the axis: at least this, more for
 * long labels ("10 scheduler(s)"), which slant further down.
 */
const SERIES_LABEL_DEPTH = 34;
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
/** The title starts near the left edge, not over the plot: long titles need the whole width. */
const TITLE_X = 16;
/** Roughly how wide one character of a 10 px value label is, to know when it fits over its bar. */
const VALUE_CHAR_WIDTH = 5.8;
/**
 * Roughly how wide a character is, as a share of the font size, for text
 * whose room is fixed (the legend, the names under the bars and at the ends
 * of lines). Set from chromium's rendering of the widest names the charts
 * have ("11 concurrency-controls"), erring wide: a name a little short of
 * its room looks fine, one cut off does not.
 */
const CHAR_WIDTH_EM = 0.62;
/** Roughly how wide `characters` characters of a `fontSize` px font are (see CHAR_WIDTH_EM). */
function textWidth(characters: number, fontSize: number): number {
  return characters * fontSize * CHAR_WIDTH_EM;
}
/** The names under the bars shrink to fit their group, down to this size. */
const SMALLEST_AXIS_FONT = 8;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';

export function renderBarChart(chart: BarChart): string {
  const values = chart.series
    .flatMap((series) => series.values)
    .filter((value): value is number => value !== null);
  const groupWidth = PLOT_W / Math.max(1, chart.categories.length);
  const barWidth = Math.min(48, (groupWidth * 0.8) / Math.max(1, chart.series.length));
  const multiSeries = chart.series.length > 1;
  // All of a chart's value labels the same way: upright when one of them is
  // wider than its bar.
  const longestValue = Math.max(0, ...values.map((value) => formatNumber(value).length));
  const uprightLabels = longestValue * VALUE_CHAR_WIDTH > barWidth - 2;
  // The plot starts lower by the height of the tallest bar's label, which
  // would otherwise run into the title. (Rather than shrink the plot: the
  // chart grows by that much instead, and its bars keep their height.)
  const headroom = Math.ceil(uprightLabels ? longestValue * VALUE_CHAR_WIDTH + 6 : 14);
  const scale = valueScale(values, chart.logarithmic === true, MARGIN.top + headroom);
  const names = chart.categories.map(
    (category) => category.axisLabel ?? category.label.split(" ")[0] ?? "",
  );
  const nameLayout = axisLabelLayout(names, groupWidth - 4);
  // A 9 px label slanted at 45° reaches down by its length over √2.
  const longestSeries = Math.max(0, ...chart.series.map((series) => series.label.length));
  const seriesDepth = multiSeries
    ? Math.max(SERIES_LABEL_DEPTH, Math.ceil(textWidth(longestSeries, 9) / Math.SQRT2 + 12))
    : 0;
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
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(scale.bottom - y).toFixed(1)}" fill="${category.colour}" fill-opacity="${opacity.toFixed(2)}"${stroke}><title>${escapeXml(`${category.label} ${series.label}: ${formatNumber(value)}`)}</title></rect>`,
        valueLabel(formatNumber(value), x + barWidth / 2 - 1, y, uprightLabels),
      );
      // Several series: each bar says which it is, under the axis (slanted
      // to fit), so the shades need no decoding through the legend.
      if (multiSeries) {
        parts.push(
          `<text transform="translate(${(x + barWidth / 2).toFixed(1)} ${scale.bottom + 6}) rotate(-45)" text-anchor="end" font-size="9" fill="#555" ${FONT}>${escapeXml(series.label)}</text>`,
        );
      }
    });
    parts.push(
      axisLabel(
        names[c] ?? "",
        MARGIN.left + c * groupWidth + groupWidth / 2,
        scale.bottom + 18 + seriesDepth,
        nameLayout,
        category.highlight === true,
      ),
    );
  });
  // Under the bars only the step number (the first word of a label): seventeen
  // full names do not fit side by side, so the legend spells them out. Its
  // shades need no entries: each bar is named under the axis.
  const legend = chart.legend ?? chart.categories;
  const height = HEIGHT + headroom + seriesDepth;
  return frame(chart.title, chart.valueLabel, "step", scale, parts, legend, {
    height,
    contentRight: 0,
  });
}

/**
 * How the names under the bars are set, the same for all of a chart's names:
 * broken into lines at their spaces if one does not fit its group ("b100
 * d50" over a narrow group), then in a smaller font if a line is still too
 * wide ("gw-b" among seventeen groups).
 */
function axisLabelLayout(texts: readonly string[], room: number): { wrap: boolean; size: number } {
  const widest = (lines: readonly string[]) => Math.max(1, ...lines.map((line) => line.length));
  const wrap = textWidth(widest(texts), 12) > room;
  const longest = widest(wrap ? texts.flatMap((text) => text.split(" ")) : texts);
  return {
    wrap,
    size: Math.max(SMALLEST_AXIS_FONT, Math.min(12, room / (longest * CHAR_WIDTH_EM))),
  };
}

function axisLabel(
  text: string,
  centreX: number,
  top: number,
  layout: { wrap: boolean; size: number },
  bold: boolean,
): string {
  const x = centreX.toFixed(1);
  const spans = (layout.wrap ? text.split(" ") : [text])
    .map((line, i) => `<tspan x="${x}" dy="${i === 0 ? 0 : 1.1}em">${escapeXml(line)}</tspan>`)
    .join("");
  return `<text x="${x}" y="${top}" text-anchor="middle" font-size="${layout.size.toFixed(1)}" ${FONT}${bold ? ' font-weight="bold"' : ""}>${spans}</text>`;
}

/**
 * A bar's value above it; upright where values are wider than their bars,
 * so the values of narrow bars side by side do not run into each other.
 */
function valueLabel(text: string, centreX: number, top: number, upright: boolean): string {
  const at = `${centreX.toFixed(1)} ${(top - 4).toFixed(1)}`;
  return upright
    ? `<text transform="translate(${at}) rotate(-90)" dy="3.5" text-anchor="start" font-size="10" ${FONT}>${escapeXml(text)}</text>`
    : `<text x="${centreX.toFixed(1)}" y="${(top - 4).toFixed(1)}" text-anchor="middle" font-size="10" ${FONT}>${escapeXml(text)}</text>`;
}

/**
 * How each line is drawn besides its colour: several steps' lines often run
 * close together, and colour alone does not tell them apart there (nor for
 * every reader); a dash pattern and a marker shape of its own do.
 */
const LINE_STYLES: readonly { dash: string; marker: Marker }[] = [
  { dash: "", marker: "circle" },
  { dash: "8 4", marker: "square" },
  { dash: "2 3", marker: "triangle" },
  { dash: "10 3 2 3", marker: "diamond" },
  { dash: "", marker: "square" },
  { dash: "8 4", marker: "triangle" },
  { dash: "2 3", marker: "diamond" },
  { dash: "10 3 2 3", marker: "circle" },
];

type Marker = "circle" | "square" | "triangle" | "diamond";

function marker(shape: Marker, x: number, y: number, colour: string): string {
  const at = (dx: number, dy: number) => `${(x + dx).toFixed(1)},${(y + dy).toFixed(1)}`;
  switch (shape) {
    case "circle":
      return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4" fill="${colour}"/>`;
    case "square":
      return `<rect x="${(x - 3.5).toFixed(1)}" y="${(y - 3.5).toFixed(1)}" width="7" height="7" fill="${colour}"/>`;
    case "triangle":
      return `<polygon points="${at(0, -5)} ${at(4.5, 3.5)} ${at(-4.5, 3.5)}" fill="${colour}"/>`;
    case "diamond":
      return `<polygon points="${at(0, -5)} ${at(5, 0)} ${at(0, 5)} ${at(-5, 0)}" fill="${colour}"/>`;
  }
}

/**
 * Lines of values measured at a few levels of something (the history in
 * the tables). The levels are spaced evenly along the x axis, not to scale:
 * they grow tenfold from one to the next, and to scale the first two would
 * sit on top of each other. Each line is named at its right end (labels
 * pushed apart where lines end close together) instead of in a legend.
 */
export function renderLineChart(chart: LineChart): string {
  const values = chart.lines
    .flatMap((line) => line.values)
    .filter((value): value is number => value !== null);
  const scale = valueScale(
    values,
    chart.logarithmic === true,
    MARGIN.top,
    PLOT_H + LINE_CHART_EXTRA_HEIGHT,
  );
  const xOf = (index: number) =>
    MARGIN.left + (chart.x.length > 1 ? (index / (chart.x.length - 1)) * PLOT_W : PLOT_W / 2);
  const parts: string[] = [];
  chart.x.forEach((x, index) => {
    parts.push(
      `<line x1="${xOf(index).toFixed(1)}" y1="${scale.bottom}" x2="${xOf(index).toFixed(1)}" y2="${scale.bottom + 5}" stroke="#444"/>`,
      `<text x="${xOf(index).toFixed(1)}" y="${scale.bottom + 18}" text-anchor="middle" font-size="11" ${FONT}>${formatNumber(x)}</text>`,
    );
  });
  const ends: { label: string; y: number; colour: string; style: (typeof LINE_STYLES)[number] }[] =
    [];
  chart.lines.forEach((line, l) => {
    const style = LINE_STYLES[l % LINE_STYLES.length] ?? { dash: "", marker: "circle" };
    const points = chart.x.flatMap((_, i) => {
      const value = line.values[i];
      return value === null || value === undefined ? [] : [[xOf(i), scale.y(value)] as const];
    });
    const dash = style.dash ? ` stroke-dasharray="${style.dash}"` : "";
    parts.push(
      `<polyline fill="none" stroke="${line.colour}" stroke-width="2.5"${dash} points="${points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ")}"/>`,
      ...points.map(([x, y]) => marker(style.marker, x, y, line.colour)),
    );
    const last = points.at(-1);
    if (last) ends.push({ label: line.label, y: last[1], colour: line.colour, style });
  });
  const labelX = MARGIN.left + PLOT_W + 12;
  for (const end of spreadApart(ends, LINE_LABEL_GAP, scale.bottom)) {
    const dash = end.style.dash ? ` stroke-dasharray="${end.style.dash}"` : "";
    parts.push(
      `<line x1="${labelX}" y1="${end.y.toFixed(1)}" x2="${labelX + 24}" y2="${end.y.toFixed(1)}" stroke="${end.colour}" stroke-width="2.5"${dash}/>`,
      marker(end.style.marker, labelX + 12, end.y, end.colour),
      `<text x="${labelX + 30}" y="${end.y.toFixed(1)}" dy="4" font-size="12" ${FONT}>${escapeXml(end.label)}</text>`,
    );
  }
  const longestName = Math.max(0, ...ends.map((end) => end.label.length));
  return frame(chart.title, chart.valueLabel, chart.xLabel, scale, parts, [], {
    height: HEIGHT + LINE_CHART_EXTRA_HEIGHT,
    contentRight: labelX + 30 + textWidth(longestName, 12),
  });
}

/** Lines often run close together: a taller plot than the bar charts' keeps them apart. */
const LINE_CHART_EXTRA_HEIGHT = 120;

/** The least vertical distance between two line labels, in pixels. */
const LINE_LABEL_GAP = 15;

/**
 * Labels at the heights of their lines' ends, moved apart just enough that
 * no two are closer than `gap`: top to bottom, each one below the one before.
 */
function spreadApart<T extends { y: number }>(
  labels: readonly T[],
  gap: number,
  bottom: number,
): T[] {
  const sorted = [...labels].sort((a, b) => a.y - b.y);
  const placed: T[] = [];
  for (const label of sorted) {
    const previous = placed.at(-1);
    placed.push(previous && label.y - previous.y < gap ? { ...label, y: previous.y + gap } : label);
  }
  // If that pushed the last ones below the plot, shift the whole stack up.
  const overflow = (placed.at(-1)?.y ?? 0) - bottom;
  return overflow > 0 ? placed.map((label) => ({ ...label, y: label.y - overflow })) : placed;
}

interface Scale {
  y(value: number): number;
  ticks: number[];
  /** The y of the value axis's top, and of its foot (the x axis). */
  top: number;
  bottom: number;
}

function valueScale(
  values: readonly number[],
  logarithmic: boolean,
  top: number,
  plotHeight: number = PLOT_H,
): Scale {
  const bottom = top + plotHeight;
  const max = Math.max(...values, 0) || 1;
  if (logarithmic) {
    // Bounds and ticks at 1, 2 and 5 times a power of ten, not whole powers
    // only: values that lie within two decades then fill the plot instead of
    // a third of it, and lines close together stay apart.
    const positive = values.filter((value) => value > 0);
    const low = niceLogBound(Math.min(...positive, max), "down");
    const high = niceLogBound(max, "up");
    const span = Math.log10(high) - Math.log10(low) || 1;
    const ticks: number[] = [];
    for (let decade = 10 ** Math.floor(Math.log10(low)); decade <= high; decade *= 10) {
      for (const factor of [1, 2, 5]) {
        const tick = Number((decade * factor).toPrecision(12));
        if (tick >= low && tick <= high) ticks.push(tick);
      }
    }
    return {
      ticks,
      top,
      bottom,
      y: (value) =>
        bottom - ((Math.log10(Math.max(value, low)) - Math.log10(low)) / span) * plotHeight,
    };
  }
  const step = niceStep(max / 5);
  const highest = Math.ceil(max / step) * step;
  const ticks = Array.from({ length: Math.round(highest / step) + 1 }, (_, i) => i * step);
  return { ticks, top, bottom, y: (value) => bottom - (value / highest) * plotHeight };
}

/** 1, 2 or 5 times a power of ten: the nearest at or below `value` ("down"), or at or above it ("up"). */
function niceLogBound(value: number, direction: "down" | "up"): number {
  const power = 10 ** Math.floor(Math.log10(value));
  const candidates = [1, 2, 5, 10].map((factor) => Number((factor * power).toPrecision(12)));
  return direction === "down"
    ? (candidates.filter((candidate) => candidate <= value).at(-1) ?? power)
    : (candidates.find((candidate) => candidate >= value) ?? power * 10);
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
  legend: readonly { label: string; colour: string }[],
  /** The chart's own height, and where the body's rightmost text ends (the line charts' names). */
  { height, contentRight }: { height: number; contentRight: number },
): string {
  const grid = scale.ticks.flatMap((tick) => {
    const y = scale.y(tick).toFixed(1);
    return [
      `<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + PLOT_W}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${MARGIN.left - 8}" y="${y}" dy="4" text-anchor="end" font-size="11" ${FONT}>${formatNumber(tick)}</text>`,
    ];
  });
  const legendX = MARGIN.left + PLOT_W + 20;
  const legendItems = legend.flatMap((item, i) => {
    const y = scale.top + 8 + i * 20;
    return [
      `<rect x="${legendX}" y="${y - 10}" width="14" height="14" fill="${item.colour}"/>`,
      `<text x="${legendX + 20}" y="${y + 1}" font-size="12" ${FONT}>${escapeXml(item.label)}</text>`,
    ];
  });
  // The chart grows to hold its legend and names: wider for a long name,
  // taller for many entries, rather than cut either off.
  const longestEntry = Math.max(0, ...legend.map((item) => item.label.length));
  const legendRight = legend.length > 0 ? legendX + 20 + textWidth(longestEntry, 12) : 0;
  const width = Math.max(WIDTH, Math.ceil(Math.max(legendRight, contentRight) + 8));
  const svgHeight = Math.max(height, scale.top + legend.length * 20 + 8);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${svgHeight}" width="${width}" height="${svgHeight}" role="img" aria-label="${escapeXml(title)}">`,
    `<rect width="${width}" height="${svgHeight}" fill="#fff"/>`,
    `<text x="${TITLE_X}" y="28" font-size="16" font-weight="bold" ${FONT}>${escapeXml(title)}</text>`,
    ...grid,
    `<line x1="${MARGIN.left}" y1="${scale.bottom}" x2="${MARGIN.left + PLOT_W}" y2="${scale.bottom}" stroke="#444"/>`,
    `<line x1="${MARGIN.left}" y1="${scale.top}" x2="${MARGIN.left}" y2="${scale.bottom}" stroke="#444"/>`,
    `<text transform="translate(20 ${(scale.top + scale.bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(valueLabel)}</text>`,
    `<text x="${MARGIN.left + PLOT_W / 2}" y="${height - 14}" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(xLabel)}</text>`,
    ...body,
    ...legendItems,
    "</svg>",
    "",
  ].join("\n");
}

export function escapeXml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

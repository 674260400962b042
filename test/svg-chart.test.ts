/** The report's SVG charts: what makes them readable, checked in the SVG they produce. */
import { describe, expect, it } from "vitest";
import { renderBarChart, renderLineChart } from "../lib/workshop/docs/svg-chart.ts";

const steps = ["01", "02", "03", "04", "05", "06", "07", "08"].map((id) => ({
  label: `${id} step`,
  colour: "#4e79a7",
}));

/** The value labels over the bars. */
function valueLabels(svg: string): string[] {
  return [...svg.matchAll(/<text [^>]*font-size="10"[^>]*>[^<]+</g)].map(([label]) => label);
}

/** The texts of the value axis's tick labels, bottom to top. */
function tickLabels(svg: string): string[] {
  return [...svg.matchAll(/text-anchor="end" font-size="11"[^>]*>([^<]+)</g)].map(
    (match) => match[1] ?? "",
  );
}

describe("renderBarChart", () => {
  // The pickup-latency chart of a real report: three bars per step, values far apart.
  const pickup = renderBarChart({
    title: "Pickup latency",
    valueLabel: "ms",
    categories: steps,
    series: [
      { label: "p50", values: [50, 50.1, 0.995, 0.09, 1.22, 1.44, 1.38, 1.93] },
      { label: "p95", values: [96, 98.6, 1.73, 0.134, 2.13, 2.97, 2.3, 4.41] },
      { label: "p99", values: [99.4, 101, 3.17, 0.197, 6.5, 4.5, 3.61, 9.47] },
    ],
    logarithmic: true,
  });

  it("turns every value label upright when the bars are narrower than the labels", () => {
    const labels = valueLabels(pickup);
    expect(labels).toHaveLength(24);
    for (const label of labels) expect(label).toContain("rotate(-90)");
  });

  it("puts a log axis's bounds and ticks at 1, 2 and 5 times powers of ten", () => {
    expect(tickLabels(pickup)).toEqual([
      "0.05",
      "0.1",
      "0.2",
      "0.5",
      "1",
      "2",
      "5",
      "10",
      "20",
      "50",
      "100",
      "200",
    ]);
  });

  it("keeps the value labels level when they fit over their bars", () => {
    const wide = renderBarChart({
      title: "Throughput",
      valueLabel: "jobs/s",
      categories: steps.slice(0, 2),
      series: [{ label: "jobs/s", values: [97.8, 1218] }],
    });
    const labels = valueLabels(wide);
    expect(labels).toHaveLength(2);
    for (const label of labels) expect(label).not.toContain("rotate(-90)");
  });
});

describe("renderBarChart's layout", () => {
  // The throughput chart of a real report: fourteen steps and three peers, a long name among them.
  const names = [
    ...Array.from({ length: 14 }, (_, i) => `${String(i + 1).padStart(2, "0")} step`),
    "gw graphile-worker",
    "gw-b graphile-worker, batched",
    "bmq BullMQ",
  ];
  names[10] = "11 concurrency-controls";
  const throughput = renderBarChart({
    title: "Throughput",
    valueLabel: "jobs/s",
    categories: names.map((label) => ({ label, colour: "#888" })),
    series: [{ label: "jobs/s", values: names.map((_, i) => (i === 8 ? 17_812 : 1_000 + i)) }],
    logarithmic: true,
  });
  const size = (svg: string) => {
    const [, width, height] = /<svg [^>]*width="(\d+)" height="(\d+)"/.exec(svg) ?? [];
    return { width: Number(width), height: Number(height) };
  };

  it("starts the plot low enough that the tallest bar's label stays under the title", () => {
    const tops = [
      ...throughput.matchAll(
        /translate\(([\d.]+) ([\d.]+)\) rotate\(-90\)[^>]*font-size="10"[^>]*>([^<]+)</g,
      ),
    ].map((match) => Number(match[2]) - (match[3] ?? "").length * 5.8);
    expect(tops).toHaveLength(17);
    // The title's baseline is at 28 px; its letters reach no lower than 32.
    expect(Math.min(...tops)).toBeGreaterThanOrEqual(32);
  });

  it("grows wider for its longest legend entry and taller for a legend longer than the plot", () => {
    const entries = [
      ...throughput.matchAll(/<text x="([\d.]+)" y="([\d.]+)" font-size="12"[^>]*>([^<]+)</g),
    ];
    expect(entries.map((match) => match[3])).toEqual(names);
    const { width, height } = size(throughput);
    const narrow = size(
      renderBarChart({
        title: "Throughput",
        valueLabel: "jobs/s",
        categories: [{ label: "01 step", colour: "#888" }],
        series: [{ label: "jobs/s", values: [1_000] }],
        logarithmic: true,
      }),
    );
    expect(width).toBeGreaterThan(narrow.width);
    expect(height).toBeGreaterThan(narrow.height);
    for (const [, x, y, label] of entries) {
      expect(Number(x) + (label ?? "").length * 12 * 0.6).toBeLessThanOrEqual(width);
      expect(Number(y)).toBeLessThanOrEqual(height);
    }
  });

  it("breaks the names under the bars into lines, all alike, when one does not fit its group", () => {
    const grid = renderBarChart({
      title: "Grid",
      valueLabel: "jobs/s",
      categories: [
        "08",
        "b1 d0",
        "b10 d5",
        "b100 d50",
        "b100 d0",
        "b1 d5",
        "b10 d0",
        "b100 d5",
        "b1 d50",
        "b10 d50",
      ].map((axisLabel) => ({ label: axisLabel, axisLabel, colour: "#888" })),
      series: [{ label: "jobs/s", values: Array.from({ length: 10 }, (_, i) => 1_000 * (i + 1)) }],
      legend: [{ label: "10 throughput", colour: "#888" }],
    });
    const under = [...grid.matchAll(/<text [^>]*>((?:<tspan[^>]*>[^<]*<\/tspan>)+)<\/text>/g)].map(
      (match) =>
        [...(match[1] ?? "").matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((span) => span[1]),
    );
    expect(under[3]).toEqual(["b100", "d50"]);
    expect(under[0]).toEqual(["08"]);
    expect(under.every((lines) => lines.length === (lines[0] === "08" ? 1 : 2))).toBe(true);
    // The legend says what it is told, not one entry per bar.
    expect(grid.match(/font-size="12"[^>]*>10 throughput</g)).toHaveLength(1);
    expect(grid).not.toMatch(/font-size="12"[^>]*>b100 d50</);
  });
});

describe("renderBarChart's slanted series labels", () => {
  it("puts the group names below the reach of long slanted series labels", () => {
    const svg = renderBarChart({
      title: "Jobs per tick",
      valueLabel: "jobs",
      categories: [
        { label: "08 per process", colour: "#888" },
        { label: "13 per supervisor", colour: "#888" },
      ],
      series: [1, 3, 10].map((count) => ({ label: `${count} scheduler(s)`, values: [count, 1] })),
    });
    const [, axisY] =
      /<line x1="[\d.]+" y1="([\d.]+)" x2="[\d.]+" y2="\1" stroke="#444"/.exec(svg) ?? [];
    const nameY = Number(/<text x="[\d.]+" y="([\d.]+)"[^>]*><tspan[^>]*>08</.exec(svg)?.[1]);
    // The longest label, 9 px at 45°, starts 6 px under the axis and reaches down by its length over √2.
    const reach = 6 + ("10 scheduler(s)".length * 9 * 0.6) / Math.SQRT2;
    expect(nameY - 12 - Number(axisY)).toBeGreaterThan(reach);
  });
});

describe("renderLineChart", () => {
  // Five lines that end at almost the same value, as steps 03 and 05–08 do.
  const lines = ["03", "05", "06", "07", "08"].map((id, i) => ({
    label: `${id} step`,
    colour: "#888",
    values: [500, 490, 480 + i],
  }));
  const svg = renderLineChart({
    title: "History",
    xLabel: "finished jobs",
    valueLabel: "jobs/s",
    logarithmic: true,
    x: [0, 10_000, 100_000],
    lines,
  });

  it("draws each line with a dash pattern and marker of its own", () => {
    const polylines = [...svg.matchAll(/<polyline [^>]*>/g)].map(([tag]) => {
      return /stroke-dasharray="([^"]+)"/.exec(tag)?.[1] ?? "solid";
    });
    expect(new Set(polylines).size).toBe(4);
    const shapes = svg.match(/<(circle|rect x|polygon)/g) ?? [];
    expect(new Set(shapes).size).toBe(3);
  });

  it("names every line at its end, the names at least 15 px apart", () => {
    const names = [
      ...svg.matchAll(/<text x="[\d.]+" y="([\d.]+)" dy="4" font-size="12"[^>]*>([^<]+)</g),
    ];
    expect(names.map((match) => match[2]).sort()).toEqual(lines.map((line) => line.label));
    const heights = names.map((match) => Number(match[1])).sort((a, b) => a - b);
    for (let i = 1; i < heights.length; i++) {
      expect((heights[i] ?? 0) - (heights[i - 1] ?? 0)).toBeGreaterThanOrEqual(15);
    }
  });

  it("grows wider for a long name at a line's end", () => {
    const named = (label: string) =>
      renderLineChart({
        title: "History",
        xLabel: "finished jobs",
        valueLabel: "jobs/s",
        x: [0, 10_000],
        lines: [{ label, colour: "#888", values: [500, 490] }],
      });
    const widthOf = (svg: string) => Number(/<svg [^>]*width="(\d+)"/.exec(svg)?.[1]);
    const long = named("11 concurrency-controls");
    const x = Number(/<text x="([\d.]+)" y="[\d.]+" dy="4"/.exec(long)?.[1]);
    expect(widthOf(long)).toBeGreaterThan(widthOf(named("03 step")));
    expect(x + "11 concurrency-controls".length * 12 * 0.6).toBeLessThanOrEqual(widthOf(long));
  });

  it("spaces the levels evenly, not to scale", () => {
    const xs = [
      ...svg.matchAll(/<text x="([\d.]+)" y="[\d.]+" text-anchor="middle" font-size="11"/g),
    ].map((match) => Number(match[1]));
    expect(xs).toHaveLength(3);
    expect((xs[1] ?? 0) - (xs[0] ?? 0)).toBeCloseTo((xs[2] ?? 0) - (xs[1] ?? 0), 1);
  });
});

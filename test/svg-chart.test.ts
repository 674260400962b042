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

  it("spaces the levels evenly, not to scale", () => {
    const xs = [
      ...svg.matchAll(/<text x="([\d.]+)" y="[\d.]+" text-anchor="middle" font-size="11"/g),
    ].map((match) => Number(match[1]));
    expect(xs).toHaveLength(3);
    expect((xs[1] ?? 0) - (xs[0] ?? 0)).toBeCloseTo((xs[2] ?? 0) - (xs[1] ?? 0), 1);
  });
});

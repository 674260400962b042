/** Numbers and tables as the benchmarks print them. */
import { describe, expect, it } from "vitest";
import { percentile } from "../lib/workshop/bench/statistics.ts";
import { formatNumber, formatRatio, renderTable } from "../lib/workshop/format.ts";

describe("percentile (nearest rank)", () => {
  it("picks the value at the rank, not an interpolation", () => {
    const values = [5, 1, 4, 2, 3];
    expect(percentile(values, 50)).toBe(3);
    expect(percentile(values, 99)).toBe(5);
    expect(percentile(values, 0)).toBe(1);
  });

  it("is NaN for no values", () => {
    expect(percentile([], 50)).toBeNaN();
  });
});

describe("formatting", () => {
  it("keeps three significant-ish digits", () => {
    expect(formatNumber(12345.6)).toBe("12,346");
    expect(formatNumber(12.345)).toBe("12.3");
    expect(formatNumber(0.12345)).toBe("0.123");
  });

  it("writes ratios as multiples", () => {
    expect(formatRatio(50, 200)).toBe("×0.25");
    expect(formatRatio(1, 0)).toBe("–");
  });

  it("aligns numeric columns right and text left", () => {
    expect(
      renderTable(
        ["name", "n"],
        [
          ["a", 1],
          ["bbb", 1000],
        ],
      ),
    ).toEqual(["name      n", "----  -----", "a         1", "bbb   1,000"]);
  });
});

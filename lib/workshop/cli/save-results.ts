/**
 * Saving a benchmark's results with the environment they were measured in,
 * and its charts.
 *
 * @module
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { REPO_ROOT } from "../../paths.ts";
import { describeEnvironment, environmentLines } from "../bench/environment.ts";
import { writeResults } from "../bench/results-file.ts";
import { type BarChart, renderBarChart } from "../docs/svg-chart.ts";
import type { ServiceUrls } from "./connect.ts";

export async function saveResults(
  urls: ServiceUrls,
  benchmark: string,
  quick: boolean,
  settings: object,
  results: unknown,
): Promise<void> {
  const environment = await describeEnvironment(urls.databaseUrl ?? null, urls.redisUrl ?? null);
  const path = await writeResults({
    benchmark,
    finishedAt: new Date().toISOString(),
    quick,
    environment,
    settings,
    results,
  });
  console.log("");
  for (const line of environmentLines(environment)) console.log(line);
  console.log(`Results: ${relative(REPO_ROOT, path)}`);
}

/** Draws `chart` into `directory/file` and prints where. */
export async function saveChart(directory: string, file: string, chart: BarChart): Promise<void> {
  await mkdir(directory, { recursive: true });
  const path = join(directory, file);
  await writeFile(path, renderBarChart(chart));
  console.log(`Chart: ${relative(REPO_ROOT, path)}`);
}

/**
 * Benchmark results as JSON, with the environment they were measured in.
 *
 * @module
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DATA_DIR } from "../../paths.ts";
import type { BenchEnvironment } from "./environment.ts";

/** Where results go: `.data/bench/` (ignored by git). */
export const RESULTS_DIR = join(DATA_DIR, "bench");

export interface ResultsFile<Results> {
  /** `standard` for `npm run bench`, `step-NN` for a step's own scenario. */
  readonly benchmark: string;
  readonly finishedAt: string;
  readonly quick: boolean;
  readonly environment: BenchEnvironment;
  readonly settings: object;
  readonly results: Results;
}

/** Writes `<benchmark>-<time>.json` and `<benchmark>-latest.json`; returns the first path. */
export async function writeResults<Results>(file: ResultsFile<Results>): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const text = `${JSON.stringify(file, null, 2)}\n`;
  const stamp = file.finishedAt.replace(/[:.]/g, "-");
  const path = join(RESULTS_DIR, `${file.benchmark}-${stamp}.json`);
  await writeFile(path, text);
  await writeFile(join(RESULTS_DIR, `${file.benchmark}-latest.json`), text);
  return path;
}

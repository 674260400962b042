/**
 * The order of `npm run practice NN -- check`'s test files: the practice
 * folder's own tests first, the longest first; then the contract suite's,
 * the larger file first.
 *
 * Why: the check runs on two test workers, and its time is the time of the
 * worker that ends last. A step's own tests are its long ones — they start
 * worker processes, kill them, stop a PostgreSQL server — while the contract
 * suite is a score of files of a second or less for any one step, good for
 * filling in. Started last, a 25-second file alone makes the check 25 s
 * longer; started first, it runs beside everything else.
 *
 * "Longest" is how long the reference step's copy of the file took when the
 * project's tests last ran it (`npm test`, or the step's tests): vitest
 * keeps every file's last duration in its cache. A practice file is a copy
 * of the reference's, and the reference's time is the one a passing check
 * takes. A contract file goes by its own last duration, for every step it
 * ran: not this step's time, but its long files (recovery, crashes) are
 * long for every step. Files never run are ordered by size, after those
 * with a time.
 *
 * Why not vitest's own order: it runs the files that failed last time first,
 * then the longest last time, by the files' own paths. A check runs once on
 * code that fails its long tests quickly, once it passes them slowly — the
 * last run orders the next one badly — and the practice folder's paths were
 * new to it, so the order was the command line's: the contract suite first.
 * (Measured on step 08, 2 cores: step 08's database-outage file, the
 * longest, started at 26 s of a 59 s check.)
 *
 * @module
 */
import { statSync } from "node:fs";
import { basename, join, relative, sep } from "node:path";
import type { TestSpecification } from "vitest/node";
import { BaseSequencer } from "vitest/node";
import { REPO_ROOT } from "../../lib/paths.ts";
import { PRACTICE_FOLDER_VARIABLE } from "../../lib/workshop/step-directory.ts";

export default class StepTestsFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const folder = process.env[PRACTICE_FOLDER_VARIABLE];
    const ownFolder = folder === undefined ? undefined : join(REPO_ROOT, folder) + sep;
    // The path whose last run times a file: for a practice file, its
    // reference's copy (steps/NN-slug/, the practice folder's name).
    const timedAs = (file: TestSpecification): { own: boolean; path: string } =>
      ownFolder !== undefined && file.moduleId.startsWith(ownFolder)
        ? { own: true, path: join("steps", basename(ownFolder), basename(file.moduleId)) }
        : { own: false, path: relative(REPO_ROOT, file.moduleId) };
    const rank = (file: TestSpecification): [number, number] => {
      const { own, path } = timedAs(file);
      const duration = this.ctx.cache.getFileTestResults(`${file.project.name}:${path}`)?.duration;
      const group = (own ? 0 : 2) + (duration === undefined ? 1 : 0);
      return [group, -(duration ?? statSync(file.moduleId).size)];
    };
    return files
      .map((file) => ({ file, rank: rank(file) }))
      .sort((a, b) => a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1])
      .map(({ file }) => file);
  }
}

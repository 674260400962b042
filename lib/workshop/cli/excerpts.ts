/**
 * `npm run docs:excerpts`: copies the code every lesson shows from the source
 * into its README (see `lib/workshop/docs/lesson-excerpts.ts`); `-- --check`
 * writes nothing and fails when a README is not what it would write.
 *
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../paths.ts";
import { formatMarkdown } from "../docs/format-markdown.ts";
import { lessonFiles, renderExcerpts } from "../docs/lesson-excerpts.ts";
import { parseFlags } from "./parse.ts";
import { runMain } from "./run-main.ts";

const USAGE = [
  "Usage: npm run docs:excerpts [-- --check]",
  "",
  "Copies the code each lesson shows into its README, from the source regions its",
  "markers name (<!-- code: ./claims.ts#claim … --> … <!-- code:end -->); a line",
  "{@includeCode ./claims.ts#claim} becomes such a block.",
  "",
  "  --check   write nothing; exit 1 if a README's excerpts are not current",
].join("\n");

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseFlags(argv, { check: { type: "boolean" } }, USAGE, 0);
  if (parsed.flags.help) {
    console.log(USAGE);
    return 0;
  }
  const stale: string[] = [];
  for (const file of lessonFiles(REPO_ROOT)) {
    const path = join(REPO_ROOT, file);
    const current = readFileSync(path, "utf8");
    const updated = formatMarkdown(renderExcerpts(current, file, REPO_ROOT), file);
    if (updated === current) continue;
    stale.push(file);
    if (!parsed.flags.check) writeFileSync(path, updated);
  }
  if (parsed.flags.check) {
    if (stale.length === 0) {
      console.log("Every lesson's code excerpts are current.");
      return 0;
    }
    console.error(
      `The code excerpts in ${stale.join(", ")} differ from the source. Run: npm run docs:excerpts`,
    );
    return 1;
  }
  console.log(
    stale.length === 0
      ? "Every lesson's code excerpts were already current."
      : `Code excerpts written into ${stale.join(", ")}.`,
  );
  return 0;
}

runMain(() => main(process.argv.slice(2)));

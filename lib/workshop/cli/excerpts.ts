/**
 * `npm run docs:excerpts`: copies code from the source into the docs — the
 * code every lesson shows, into its README (see
 * `lib/workshop/docs/lesson-excerpts.ts`), and a page per contract test file
 * (`lib/workshop/docs/contract-pages.ts`). `-- --check` writes nothing and
 * fails when a file is not what it would write.
 *
 * @module
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../paths.ts";
import {
  CONTRACT_PAGES_DIR,
  contractPagePath,
  contractTestFiles,
  renderContractPage,
} from "../docs/contract-pages.ts";
import { formatMarkdown } from "../docs/format-markdown.ts";
import { lessonFiles, renderExcerpts } from "../docs/lesson-excerpts.ts";
import { parseFlags } from "./parse.ts";
import { runMain } from "./run-main.ts";

const USAGE = [
  "Usage: npm run docs:excerpts [-- --check]",
  "",
  "Copies the code each lesson shows into its README, from the source regions its",
  "markers name (<!-- code: ./claims.ts#claim … --> … <!-- code:end -->); a line",
  "{@includeCode ./claims.ts#claim} becomes such a block. Writes a page per",
  "contract test file into docs/contract/, which the guarantees matrix links to.",
  "",
  "  --check   write nothing; exit 1 if a file is not current",
].join("\n");

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseFlags(argv, { check: { type: "boolean" } }, USAGE, 0);
  if (parsed.flags.help) {
    console.log(USAGE);
    return 0;
  }
  const check = parsed.flags.check === true;
  const wanted = new Map<string, string>();
  for (const file of lessonFiles(REPO_ROOT)) {
    const current = readFileSync(join(REPO_ROOT, file), "utf8");
    wanted.set(file, formatMarkdown(renderExcerpts(current, file, REPO_ROOT), file));
  }
  for (const testFile of contractTestFiles(REPO_ROOT)) {
    const page = contractPagePath(testFile);
    const source = readFileSync(join(REPO_ROOT, testFile), "utf8");
    wanted.set(page, formatMarkdown(renderContractPage(testFile, source), page));
  }
  const changed = [...wanted].filter(([file, text]) => readOrNull(file) !== text);
  const orphans = existingPages().filter((page) => !wanted.has(page));

  if (check) {
    if (changed.length === 0 && orphans.length === 0) {
      console.log("The code copied into the docs is current.");
      return 0;
    }
    const problems = [
      ...changed.map(([file]) => `  ${file}: not what the source makes of it`),
      ...orphans.map((page) => `  ${page}: its contract test file is gone`),
    ];
    console.error(
      ["The code copied into the docs is stale:", ...problems, "Run: npm run docs:excerpts"].join(
        "\n",
      ),
    );
    return 1;
  }
  mkdirSync(join(REPO_ROOT, CONTRACT_PAGES_DIR), { recursive: true });
  for (const [file, text] of changed) writeFileSync(join(REPO_ROOT, file), text);
  for (const page of orphans) rmSync(join(REPO_ROOT, page));
  const touched = [...changed.map(([file]) => file), ...orphans.map((page) => `${page} (removed)`)];
  console.log(
    touched.length === 0
      ? "The code copied into the docs was already current."
      : `Written: ${touched.join(", ")}.`,
  );
  return 0;
}

function readOrNull(file: string): string | null {
  const path = join(REPO_ROOT, file);
  return existsSync(path) ? readFileSync(path, "utf8") : null;
}

/** The contract pages on disk, relative to the root. */
function existingPages(): string[] {
  const folder = join(REPO_ROOT, CONTRACT_PAGES_DIR);
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((name) => name.endsWith(".md"))
    .map((name) => `${CONTRACT_PAGES_DIR}/${name}`);
}

runMain(() => main(process.argv.slice(2)));

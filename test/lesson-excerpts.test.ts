/** The code excerpts copied into lessons, on a folder of files made for it. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EXCERPT_END,
  ExcerptError,
  excerptBegin,
  lessonFiles,
  renderExcerpts,
} from "../lib/workshop/docs/lesson-excerpts.ts";

describe("renderExcerpts", () => {
  let root: string;
  const readme = "steps/01-a/README.md";

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "lesson-excerpts-"));
    mkdirSync(join(root, "steps", "01-a"), { recursive: true });
    writeFileSync(
      join(root, "steps", "01-a", "claims.ts"),
      [
        "import { x } from './x.ts';",
        "export function outer() {",
        "  // #region claim",
        "  const claimed = x();",
        "  // #region inner",
        "  return claimed;",
        "  // #endregion inner",
        "  // #endregion claim",
        "}",
        "",
      ].join("\n"),
    );
    writeFileSync(join(root, "steps", "01-a", "schema.sql"), "CREATE TABLE jobs ();\n\n");
    writeFileSync(join(root, "steps", "01-a", "README.md"), "# A\n");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const claimBlock = [
    excerptBegin("./claims.ts#claim"),
    "",
    "`steps/01-a/claims.ts`",
    "",
    "```typescript",
    "const claimed = x();",
    "return claimed;",
    "```",
    "",
    EXCERPT_END,
  ];

  it("turns a directive into a block: the region, less its indent and nested marks, under its path", () => {
    const text = ["Intro:", "", "{@includeCode ./claims.ts#claim}", "", "After."].join("\n");
    expect(renderExcerpts(text, readme, root).split("\n")).toEqual([
      "Intro:",
      "",
      ...claimBlock,
      "",
      "After.",
    ]);
  });

  it("replaces what a block holds with the current source, and is stable", () => {
    const stale = [excerptBegin("./claims.ts#claim"), "```ts", "old();", "```", EXCERPT_END].join(
      "\n",
    );
    const once = renderExcerpts(stale, readme, root);
    expect(once.split("\n")).toEqual(claimBlock);
    expect(renderExcerpts(once, readme, root)).toBe(once);
  });

  it("follows a block whose reference was re-pointed", () => {
    const moved = [excerptBegin("./schema.sql"), "```ts", "old();", "```", EXCERPT_END].join("\n");
    expect(renderExcerpts(moved, readme, root).split("\n")).toEqual([
      excerptBegin("./schema.sql"),
      "",
      "`steps/01-a/schema.sql`",
      "",
      "```sql",
      "CREATE TABLE jobs ();",
      "```",
      "",
      EXCERPT_END,
    ]);
  });

  it("leaves a directive shown inside a code block alone", () => {
    const text = ["```md", "{@includeCode ./missing.ts#nowhere}", "```"].join("\n");
    expect(renderExcerpts(text, readme, root)).toBe(text);
  });

  it("says which README line names a missing file, region, or end", () => {
    const attempt = (text: string) => () => renderExcerpts(text, readme, root);
    expect(attempt("\n{@includeCode ./gone.ts#claim}")).toThrow(
      "steps/01-a/README.md:2: ./gone.ts#claim names steps/01-a/gone.ts, which does not exist",
    );
    expect(attempt("{@includeCode ./claims.ts#finish}")).toThrow(
      'steps/01-a/README.md:1: steps/01-a/claims.ts has no region "finish"',
    );
    expect(attempt(excerptBegin("./claims.ts#claim"))).toThrow(
      `the excerpt ./claims.ts#claim has no end: add a line "${EXCERPT_END}"`,
    );
    expect(attempt("See {@includeCode ./claims.ts#claim} here.")).toThrow(ExcerptError);
    // A marker written by hand, without the generator's note, would be passed over.
    expect(attempt("<!-- code: ./claims.ts#claim -->\n<!-- code:end -->")).toThrow(
      "steps/01-a/README.md:1: this looks like an excerpt's marker",
    );
  });

  it("finds every step's lesson", () => {
    expect(lessonFiles(root)).toEqual([readme]);
  });
});

/** Copies of the step before say so, and stay copies (see lib/workshop/checks/unchanged-copies.ts). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findCopyProblems } from "../lib/workshop/checks/unchanged-copies.ts";

describe("copies of the step before", () => {
  it("in steps/, every copy says so in its first line and is what it says", () => {
    const problems = findCopyProblems();
    const list = problems.map((problem) => `  ${problem.file}: ${problem.message}`).join("\n");
    expect(
      problems,
      `Files to mark or fix (npx tsx lib/workshop/cli/unchanged-copies.ts --mark writes the missing first lines):\n${list}\n`,
    ).toEqual([]);
  });

  describe("on a tree with one case of each kind", () => {
    const root = mkdtempSync(join(tmpdir(), "unchanged-copies-"));
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    const doorbell = "export class Doorbell {}\n";
    const files: Record<string, string> = {
      "steps/01-a/index.ts": "export const step = { buildsOn: null };\n",
      "steps/01-a/doorbell.ts": doorbell,
      "steps/01-a/schema.sql": "CREATE TABLE jobs ();\n",
      "steps/01-a/listener.ts": "export class Listener {}\n",
      "steps/02-b/index.ts": 'export const step = { buildsOn: "01" };\n',
      // a marked copy, as it should be
      "steps/02-b/doorbell.ts": `// Unchanged from step 01: steps/01-a/doorbell.ts\n${doorbell}`,
      // an unmarked copy
      "steps/02-b/schema.sql": "CREATE TABLE jobs ();\n",
      // marked, but changed since
      "steps/02-b/listener.ts":
        "// Unchanged from step 01: steps/01-a/listener.ts\nexport class Listener { fixed = true }\n",
      "steps/03-c/index.ts": 'export const step = { buildsOn: "02" };\n',
      // a copy of a copy: compared without either first line
      "steps/03-c/doorbell.ts": `// Unchanged from step 02: steps/02-b/doorbell.ts\n${doorbell}`,
      // marked as a copy of a step it does not build on
      "steps/03-c/schema.sql":
        "-- Unchanged from step 01: steps/01-a/schema.sql\nCREATE TABLE jobs ();\n",
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }

    it("finds exactly the unmarked copy, the changed copy and the wrong mark", () => {
      const found = findCopyProblems(root).map(({ file, kind, firstLine }) => ({
        file,
        kind,
        firstLine,
      }));
      expect(found).toEqual([
        { file: "steps/02-b/listener.ts", kind: "marked, but differs", firstLine: undefined },
        {
          file: "steps/02-b/schema.sql",
          kind: "unmarked copy",
          firstLine: "-- Unchanged from step 01: steps/01-a/schema.sql",
        },
        {
          file: "steps/03-c/schema.sql",
          kind: "marked wrongly",
          firstLine: "-- Unchanged from step 02: steps/02-b/schema.sql",
        },
      ]);
    });
  });
});

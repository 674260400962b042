/** The floors of lib/: no import runs back up (see lib/workshop/checks/floors.ts). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findFloorViolations } from "../lib/workshop/checks/floors.ts";

describe("the floors of lib/", () => {
  it("no import in lib/ or steps/ runs the wrong way", () => {
    expect(findFloorViolations()).toEqual([]);
  });

  describe("on a tree with one import of each kind", () => {
    const root = mkdtempSync(join(tmpdir(), "floors-"));
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    const files: Record<string, string> = {
      "lib/step.ts": 'import { x } from "./workshop/cli/main.ts";',
      "lib/workshop/cli/main.ts": 'import { y } from "../../../steps/01-a/worker.ts";',
      "steps/01-a/worker.ts":
        'import { z } from "../../lib/workshop/format.ts";\nimport { w } from "../../lib/step.ts";',
      "steps/02-b/enqueue.ts": 'import { v } from "../01-a/worker.ts";',
      "steps/02-b/demo/story.ts":
        'import { u } from "../../../lib/workshop/story.ts";\nimport { t } from "../enqueue.ts";',
      "steps/02-b/b.test.ts": 'import { s } from "../01-a/worker.ts";',
    };
    for (const [path, source] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), source);
    }

    it("finds exactly the four that break a rule", () => {
      const found = findFloorViolations(root).map(({ file, imported }) => `${file} -> ${imported}`);
      expect(found.sort()).toEqual(
        [
          "lib/step.ts -> lib/workshop/cli/main.ts",
          "lib/workshop/cli/main.ts -> steps/01-a/worker.ts",
          "steps/01-a/worker.ts -> lib/workshop/format.ts",
          "steps/02-b/enqueue.ts -> steps/01-a/worker.ts",
        ].sort(),
      );
    });
  });
});

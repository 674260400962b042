/**
 * The reference step's own tests that can grade an attendee's code: those
 * that use the step through its contract only. A test that imports the
 * reference's internals (`./recovery.ts`, `./keys.ts`) tests how the
 * reference is built, and an attendee's design may differ — a function
 * named otherwise, a key laid out another way — and still keep every
 * guarantee; such a test would fail them for it. So a test file is taken
 * when the only file of its own folder it imports is `./index.ts`, the
 * step object. It is copied into the practice folder, where `./index.ts` is
 * the attendee's.
 *
 * Not taken either: a test the reference keeps unchanged from the step it
 * builds on (marked so in its first line, see checks/unchanged-copies.ts),
 * such as step 12's copy of step 08's chaos test. It tests the base's own
 * work, which the attendee starts from and the base's code passes: it cannot
 * tell a step reached from one not begun, and the contract suite still holds
 * the attempt to every guarantee of the base. Step 08's chaos and
 * orphaned-workers tests are the slowest of its own: grading 12 with them
 * more than doubled its `check`.
 *
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isMarkedCopy } from "../checks/unchanged-copies.ts";

const OWN_FOLDER_IMPORT = /\bfrom\s+"\.\/([^"]+)"|\bimport\s*\(\s*"\.\/([^"]+)"\s*\)/g;

/** File names of the tests in `referenceFolder` that use only its `index.ts`, and are its own. */
export function gradedTests(referenceFolder: string): string[] {
  return readdirSync(referenceFolder)
    .filter((file) => file.endsWith(".test.ts"))
    .filter((file) => {
      const source = readFileSync(join(referenceFolder, file), "utf8");
      if (isMarkedCopy(source)) return false;
      const imported = [...source.matchAll(OWN_FOLDER_IMPORT)].map((match) => match[1] ?? match[2]);
      return imported.every((path) => path === "index.ts");
    })
    .sort();
}

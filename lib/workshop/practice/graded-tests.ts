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
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const OWN_FOLDER_IMPORT = /\bfrom\s+"\.\/([^"]+)"|\bimport\s*\(\s*"\.\/([^"]+)"\s*\)/g;

/** File names of the tests in `referenceFolder` that use only its `index.ts`. */
export function gradedTests(referenceFolder: string): string[] {
  return readdirSync(referenceFolder)
    .filter((file) => file.endsWith(".test.ts"))
    .filter((file) => {
      const source = readFileSync(join(referenceFolder, file), "utf8");
      const imported = [...source.matchAll(OWN_FOLDER_IMPORT)].map((match) => match[1] ?? match[2]);
      return imported.every((path) => path === "index.ts");
    })
    .sort();
}

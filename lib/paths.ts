/**
 * Where things are on disk.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** The repository's root folder. */
export const REPO_ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Ignored by git: local servers' data, benchmark results, logs. */
export const DATA_DIR = fileURLToPath(new URL("../.data/", import.meta.url));

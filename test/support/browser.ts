/**
 * A real browser for the dashboard's tests: Debian's `chromium`, driven by
 * `playwright-core` (npm cannot download a browser here; `.ci/run` installs
 * it with apt). Without one the test is skipped with a note, as a test
 * without Redis is; under CI it fails.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { expect, onTestFinished, TestRunner } from "vitest";
import type { StepInstance } from "../../lib/step.ts";
import { startDashboard } from "../../lib/workshop/dashboard/server.ts";

/** Where the browser is: `CHROMIUM_PATH`, or where Debian's package puts it. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Where the tests put their screenshots (git-ignored): look at them after a run. */
export const SCREENSHOT_DIR = path.resolve(import.meta.dirname, "../../.data/screenshots");

export const NO_CHROMIUM = `needs a chromium browser at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;

/** Thrown where a missing browser must fail the test: under CI=true. */
export class ChromiumRequiredError extends Error {
  override name = "ChromiumRequiredError";
  constructor() {
    super(`This test ${NO_CHROMIUM}, and CI=true says every test must run.`);
  }
}

/**
 * A page in a fresh headless chromium, closed when the test ends. Every
 * console error and uncaught exception on it is collected, and the test
 * fails on any: the page must work with the console empty of errors.
 */
export async function openPage(): Promise<Page> {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI === "true") throw new ChromiumRequiredError();
    const test = TestRunner.getCurrentTest();
    if (!test) throw new Error(`Asked for a browser outside a test (${NO_CHROMIUM}).`);
    return test.context.skip(NO_CHROMIUM);
  }
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    // Root in a container has no user namespace for chromium's sandbox.
    args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  onTestFinished(async () => {
    await browser.close();
  });
  onTestFinished(() => {
    expect(errors, "errors in the browser's console").toEqual([]);
  });
  return page;
}

/** Saves a full-page screenshot as `<name>.png` in {@link SCREENSHOT_DIR}. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/**
 * How long a test waits for the page to show something: the live part is
 * replaced every refresh, so a locator is read again until it matches.
 */
export const WAIT = { timeout: 20_000 };

/** The number the page shows for `state`, once it equals `expected` (waits for the live refresh). */
export async function expectCount(page: Page, state: string, expected: number): Promise<void> {
  const cell = page.locator(`[data-state="${state}"] .number`);
  await expect.poll(async () => Number(await cell.textContent()), WAIT).toBe(expected);
}

/**
 * Opens a dashboard of `instance` on `page`: on a free port, refreshing
 * every 200 ms so a test waits little for the page to follow. When the test
 * ends the page is closed before the server, so its polling never meets a
 * closed port (an error in the console).
 */
export async function showDashboard(page: Page, instance: StepInstance): Promise<void> {
  const dashboard = await startDashboard(instance, { host: "127.0.0.1", port: 0, refreshMs: 200 });
  onTestFinished(async () => {
    await page.close();
    await dashboard.close();
  });
  await page.goto(dashboard.url);
}

// What the browser lane's runners share (chromium.mjs, bundlers.mjs): the
// headless browser, and the page errors a case's failure should show. Its
// own module: a runner that imported another would run that one's tests.
import process from "node:process";
import puppeteer from "puppeteer-core";
import { ensureChromium, ensureFirefox } from "../../scripts/tools.mjs";

/** How to find and launch each browser the lanes run in. */
const BROWSERS = {
  chromium: {
    name: "Chromium",
    find: ensureChromium,
    // Root in a container: Chromium's sandbox needs user namespaces.
    options: { args: ["--no-sandbox", "--disable-dev-shm-usage"] },
  },
  // puppeteer-core drives it over WebDriver BiDi.
  firefox: {
    name: "Firefox",
    find: ensureFirefox,
    options: { browser: "firefox" },
  },
};
/** The browser this lane runs in: WORKQ_BROWSER (firefox.mjs sets it), or Chromium. */
export const BROWSER = BROWSERS[process.env.WORKQ_BROWSER ?? "chromium"];

/** Starts {@linkcode BROWSER} headless (Debian's, installed when missing). */
export async function launchBrowser() {
  const executablePath = BROWSER.find();
  if (!executablePath) {
    throw new Error(`${BROWSER.name} could not be installed`);
  }
  return await puppeteer.launch({
    executablePath,
    headless: true,
    ...BROWSER.options,
  });
}

/**
 * Collects `page`'s uncaught errors and console errors; `explain(error)`
 * adds them to a failure's message and returns it.
 */
export function watchPage(page) {
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
  });
  return (error) => {
    if (problems.length) error.message += `\n${problems.join("\n")}`;
    return error;
  };
}

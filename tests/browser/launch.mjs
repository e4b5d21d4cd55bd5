// What the browser lane's runners share (chromium.mjs, bundlers.mjs): the
// headless browser, and the page errors a case's failure should show. Its
// own module: a runner that imported another would run that one's tests.
import puppeteer from "puppeteer-core";
import { ensureChromium } from "../../scripts/tools.mjs";

/** Starts headless Chromium (Debian's, installed when missing). */
export async function launchChromium() {
  const executablePath = ensureChromium();
  if (!executablePath) throw new Error("Chromium could not be installed");
  return await puppeteer.launch({
    executablePath,
    headless: true,
    // Root in a container: Chromium's sandbox needs user namespaces.
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
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

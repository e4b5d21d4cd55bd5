// The browser lane's cases in Firefox (Debian's firefox-esr, driven by
// puppeteer-core over WebDriver BiDi): the Chromium runner, told which
// browser to launch.
//
//   node --test tests/browser/firefox.mjs   (after the build into dist/)
process.env.WORKQ_BROWSER = "firefox";
await import("./chromium.mjs");

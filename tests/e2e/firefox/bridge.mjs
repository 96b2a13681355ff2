// Drives Debian's Firefox ESR for the pytest browser tests (tests/e2e/firefox.py).
//
// Playwright for Python cannot drive a stock Firefox; puppeteer-core can, over
// WebDriver BiDi, and downloads no browser. pytest starts this script and
// talks to it in JSON lines: one request `{"id", "op", ...}` on stdin, one
// reply `{"id", "ok": true, "value"}` or `{"id", "ok": false, "error"}` on
// stdout. Each page lives in its own browser context (own storage), like a
// Playwright context per participant. Page console errors go to stderr.

import { createInterface } from 'node:readline';
import puppeteer from 'puppeteer-core';

const FIREFOX = process.env.ROOMTONE_E2E_FIREFOX || '/usr/bin/firefox-esr';

const PREFS = {
  // A fake camera and microphone, granted without a prompt, playing without a gesture.
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  // Background pages keep decoding and timers at full rate.
  'dom.min_background_timeout_value': 4,
  'media.suspend-background-video.enabled': false,
  // Nothing to fetch from anywhere (the test namespace has no way out anyway).
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'media.gmp-manager.updateEnabled': false,
  'app.update.enabled': false,
};

const browser = await puppeteer.launch({
  browser: 'firefox',
  executablePath: FIREFOX,
  headless: true,
  extraPrefsFirefox: PREFS,
  protocolTimeout: 60_000,
});

const pages = new Map();
let nextPage = 1;

function call(js, arg) {
  // A function's source text, called with one JSON argument (as Playwright's evaluate does).
  return `(${js})(${JSON.stringify(arg ?? null)})`;
}

function byTestId(testId) {
  return `[data-testid="${testId}"]`;
}

function pageOf(request) {
  const entry = pages.get(request.page);
  if (!entry) throw new Error(`no page ${request.page}`);
  return entry.page;
}

const ops = {
  async newPage({ initScript, viewport }) {
    const context = await browser.createBrowserContext();
    // A window each: Firefox paints only the selected tab of a window, so participants
    // sharing one window would decode video that is never painted.
    const page = await context.newPage({ type: 'window' });
    page.setDefaultTimeout(20_000);
    if (viewport) await page.setViewport(viewport);
    if (initScript) await page.evaluateOnNewDocument(initScript);
    const id = nextPage++;
    page.on('console', (message) => {
      if (message.type() === 'error') process.stderr.write(`[firefox page ${id}] ${message.text()}\n`);
    });
    page.on('pageerror', (error) => process.stderr.write(`[firefox page ${id}] ${error}\n`));
    pages.set(id, { context, page });
    return id;
  },
  async goto(request) {
    await pageOf(request).goto(request.url, { waitUntil: 'load' });
    return null;
  },
  async reload(request) {
    await pageOf(request).reload({ waitUntil: 'load' });
    return null;
  },
  async url(request) {
    return pageOf(request).url();
  },
  async evaluate(request) {
    return pageOf(request).evaluate(call(request.js, request.arg));
  },
  async waitForFunction(request) {
    await pageOf(request).waitForFunction(call(request.js, request.arg), {
      timeout: request.timeout ?? 20_000,
      polling: 100,
    });
    return null;
  },
  async fill(request) {
    const page = pageOf(request);
    const selector = byTestId(request.testId);
    await page.waitForSelector(selector, { visible: true });
    // Select what is there, then type: React sees real input events.
    await page.click(selector, { count: 3 });
    await page.keyboard.press('Backspace');
    await page.type(selector, request.value);
    return null;
  },
  async click(request) {
    const page = pageOf(request);
    const selector = byTestId(request.testId);
    await page.waitForSelector(selector, { visible: true });
    await page.click(selector);
    return null;
  },
  async closePage(request) {
    const entry = pages.get(request.page);
    if (!entry) return null;
    pages.delete(request.page);
    await entry.context.close();
    return null;
  },
  async version() {
    return browser.version();
  },
};

async function handle(line) {
  let request;
  try {
    request = JSON.parse(line);
  } catch {
    return;
  }
  try {
    const op = ops[request.op];
    if (!op) throw new Error(`unknown op ${request.op}`);
    const value = await op(request);
    reply({ id: request.id, ok: true, value: value ?? null });
  } catch (error) {
    reply({ id: request.id, ok: false, error: String(error && error.message ? error.message : error) });
  }
}

function reply(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

const input = createInterface({ input: process.stdin });
input.on('line', (line) => {
  handle(line);
});
input.on('close', async () => {
  try {
    await browser.close();
  } finally {
    process.exit(0);
  }
});
reply({ id: 0, ok: true, value: 'ready' });

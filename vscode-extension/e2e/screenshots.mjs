// Drives a running code-server with Debian's Chromium and saves screenshots of the extension.
//
//   node e2e/screenshots.mjs --url URL --images DIR [--scenario highlighting|server] [--debug DIR]
//
// highlighting: opens support_triage.dspx, waits until the TextMate grammar has coloured it,
//               saves DIR/highlighting.png. Exit 1 when the editor never shows coloured tokens.
//               With --debug, also checks the "cannot find the language server" notification
//               (this scenario starts no server) and saves it as DEBUG/missing-server.png.
// server:       opens qa.dspx (it has a typo), waits for the language server's diagnostics,
//               hovers the error and a signature, and saves diagnostics.png, hover.png and
//               inlay-hints.png. Each shot that cannot be taken is reported; any miss exits 2.
// --debug DIR receives screenshots of checks and failures that are not for the README.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values: options } = parseArgs({
  options: {
    url: { type: 'string' },
    images: { type: 'string' },
    scenario: { type: 'string', default: 'highlighting' },
    debug: { type: 'string' },
  },
});
if (!options.url || !options.images) {
  console.error('usage: node e2e/screenshots.mjs --url URL --images DIR [--scenario highlighting|server] [--debug DIR]');
  process.exit(64);
}
mkdirSync(options.images, { recursive: true });

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  // A plain `chromium --screenshot` shows an empty workbench: the page needs a live renderer.
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 1180 } });
const missed = [];

try {
  await page.goto(options.url, { waitUntil: 'domcontentloaded' });
  await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
  await page.locator('.explorer-folders-view').waitFor({ timeout: 60_000 });

  if (options.scenario === 'server') {
    await serverShots();
  } else {
    await highlightingShot();
  }
} catch (error) {
  await debugShot('e2e-failure.png');
  throw error;
} finally {
  await browser.close();
}
if (missed.length > 0) {
  console.error(`e2e: not taken: ${missed.join(', ')}`);
  process.exit(2);
}

async function highlightingShot() {
  await openFile('support_triage.dspx', 'Support triage');
  await waitForColours();
  if (options.debug) {
    // This scenario starts no server: the extension must say so, with its install hint.
    const toast = page.locator('.notification-toast', { hasText: 'cannot find the language server' });
    if (await appears(toast, 20_000)) {
      await debugShot('missing-server.png');
    } else {
      missed.push('missing-server.png (no "cannot find the language server" notification)');
    }
  }
  await closeNotifications();
  await scrollToLine(45);
  await page.mouse.move(5, 5);
  await shot('highlighting.png');
}

async function serverShots() {
  await page.setViewportSize({ width: 1280, height: 800 });
  await openFile('qa.dspx', 'models.dspx');
  // The error is below the fold: wait for the status bar to count it, then reveal it with Find.
  const errors = page.locator('.statusbar-item[id="status.problems"]', { hasText: /[1-9]/ });
  await appears(errors, 60_000);
  await page.keyboard.press('Control+F');
  await page.keyboard.type('quesion');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Escape');
  const squiggle = page.locator('.view-overlays .squiggly-error');
  if (!(await appears(squiggle, 10_000))) {
    missed.push('diagnostics.png, hover.png, inlay-hints.png (no error from the language server within 60 s)');
    await debugShot('no-diagnostics.png');

    return;
  }
  await closeNotifications();

  await hoverText('quesion');
  if (await appears(page.locator('.monaco-hover:visible'), 10_000)) {
    await shot('diagnostics.png');
  } else {
    missed.push('diagnostics.png (no hover on the error)');
  }
  await dismissHover();

  await hoverText('AnswerQuestion', -1);
  if (await appears(page.locator('.monaco-hover:visible'), 10_000)) {
    await shot('hover.png');
  } else {
    missed.push('hover.png (no hover on a signature)');
  }
  await dismissHover();

  // Inlay hints are injected text with generated `dyn-rule-*` classes; padding spans are empty.
  const hint = page.locator('.view-lines span[class*="dyn-rule"]').filter({ hasText: /\S/ }).first();
  if (await appears(hint, 15_000)) {
    await shot('inlay-hints.png');
  } else {
    missed.push('inlay-hints.png (no inlay hint rendered within 15 s)');
  }
}

async function openFile(name, expectedText) {
  const item = page.locator(`.explorer-folders-view .monaco-list-row[aria-label^="${name}"]`).first();
  if (await appears(item, 20_000)) {
    await item.click();
  } else {
    await page.keyboard.press('Control+P');
    await page.keyboard.type(name);
    await page.waitForTimeout(500);
    await page.keyboard.press('Enter');
  }
  await page.locator('.monaco-editor .view-lines', { hasText: expectedText }).first().waitFor({ timeout: 30_000 });
}

/** Waits until the editor shows tokens of several colours: the grammar has been applied. */
async function waitForColours() {
  await page.waitForFunction(
    () => {
      const classes = new Set();
      for (const span of document.querySelectorAll('.monaco-editor .view-lines span[class^="mtk"]')) {
        classes.add(span.className);
      }
      return classes.size >= 6;
    },
    null,
    { timeout: 30_000 },
  );
}

async function closeNotifications() {
  for (let attempt = 0; attempt < 10; attempt += 1) {
    const close = page.locator('.notification-toast .codicon-notifications-clear').first();
    if (!(await appears(close, 1_000))) {
      return;
    }
    await page.locator('.notification-toast').first().hover();
    await close.click();
  }
}

/** Scrolls the editor so that about `line` (1-based) is the first visible line. */
async function scrollToLine(line) {
  const editor = page.locator('.monaco-editor .overflow-guard').first();
  const { lineHeight, height } = await editor.evaluate((node) => ({
    lineHeight: node.querySelector('.view-line').offsetHeight,
    height: node.clientHeight,
  }));
  // Go to Line centres its target, so aim at the line that will sit in the middle.
  const centre = line + Math.floor(height / lineHeight / 2);
  await page.keyboard.press('Control+G');
  await page.locator('.quick-input-widget input').waitFor({ timeout: 10_000 });
  await page.keyboard.type(String(centre));
  await page.keyboard.press('Enter');
  await page.waitForTimeout(500);
}

/** Moves the mouse over the `nth` visible token containing `text` (-1: the last one). */
async function hoverText(text, nth = 0) {
  const spans = page.locator('.monaco-editor .view-lines span span', { hasText: text });
  const span = nth < 0 ? spans.last() : spans.nth(nth);
  await span.scrollIntoViewIfNeeded();
  const box = await span.boundingBox();
  if (box !== null) {
    await page.mouse.move(box.x + Math.min(box.width / 2, 30), box.y + box.height / 2);
  }
}

async function dismissHover() {
  await page.mouse.move(5, 5);
  await page.keyboard.press('Escape');
  await page.waitForTimeout(300);
}

async function appears(locator, timeout) {
  try {
    await locator.first().waitFor({ state: 'visible', timeout });
    return true;
  } catch {
    return false;
  }
}

async function debugShot(name) {
  if (options.debug) {
    mkdirSync(options.debug, { recursive: true });
    await page.screenshot({ path: join(options.debug, name) }).catch(() => undefined);
  }
}

async function shot(name) {
  await page.waitForTimeout(500);
  const path = join(options.images, name);
  await page.screenshot({ path });
  console.log(`e2e: saved ${path}`);
}

// Drives a running code-server with Debian's Chromium and saves screenshots of the extension.
//
//   node e2e/screenshots.mjs --url URL --images DIR [--scenario highlighting|server] [--debug DIR]
//
// highlighting: opens support_triage.dspx, waits until the TextMate grammar has coloured it,
//               saves DIR/highlighting.png. Exit 1 when the editor never shows coloured tokens.
//               With --debug, also checks the "cannot find the language server" notification
//               (this scenario starts no server) and saves it as DEBUG/missing-server.png.
// server:       opens the examples' qa.dspx with the real language server and saves
//               inlay-hints.png (cost/latency after the program and step headers), hover.png
//               (a step's estimates), hover-model.png (a model's prices), code-lens.png (the
//               "Estimate" lens clicked: its result beside the file) and diagnostics.png (a
//               misspelt name typed in: squiggle, hover, Problems panel). It also checks the
//               "Show prompt" and "Run test" lenses (their screenshots go to --debug). Each
//               shot or check that fails is reported; any miss exits 2.
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
  await page.setViewportSize({ width: 1280, height: 820 });
  await openFile('qa.dspx', 'AnswerQuestion');
  await closeNotifications();
  await scrollToLine(14);

  // Estimate hints arrive once the server's space analysis has run (a few seconds).
  const estimate = page.locator('.view-lines span[class*="dyn-rule"]', { hasText: /\$\d/ });
  if (await appears(estimate, 60_000)) {
    await shot('inlay-hints.png');
  } else {
    missed.push('inlay-hints.png (no cost estimate hint within 60 s)');
    await debugShot('no-inlay-hints.png');
  }

  if (await hoverShows('answer', /^\s*step\s+answer\b/, /\$\d/)) {
    await shot('hover.png');
  } else {
    missed.push('hover.png (no hover with estimates on `step answer`)');
    await debugShot('no-hover.png');
  }
  await dismissHover();

  if (await hoverShows('mini', /^\s*var\s+model\b/, /\$[\d.]+ per 1M tokens/)) {
    await shot('hover-model.png');
  } else {
    missed.push('hover-model.png (no hover with prices on `mini`)');
    await debugShot('no-hover-model.png');
  }
  await dismissHover();

  await lensShots();
  await diagnosticsShot();
}

/**
 * Clicks the lenses with the cursor on line 1, outside every declaration, so each result shows
 * that the lens sent its own target: "Estimate" (saved as code-lens.png), then "Show prompt"
 * and "Run test" (checks, saved in --debug). The test needs OPENAI_API_KEY; without it the
 * lens must still report the test's failure.
 */
async function lensShots() {
  const lenses = [
    { label: 'Estimate', line: 14, tab: /Estimate qa/, verdict: /dspxc estimate finished/, name: 'code-lens.png' },
    { label: 'Show prompt', line: 14, tab: /Prompt qa/, verdict: /dspxc prompt finished/, name: 'lens-show-prompt.png' },
    { label: 'Run test', line: 40, tab: /Test library_books/, verdict: /test library_books (passed|failed)/, name: 'lens-run-test.png' },
  ];
  for (const { label, line, tab, verdict, name } of lenses) {
    await scrollWithoutCursor(line);
    const lens = page.locator('.codelens-decoration a', { hasText: label }).first();
    if (!(await appears(lens, 20_000))) {
      missed.push(`${name} (no "${label}" code lens)`);
      await debugShot(`no-lens-${name}`);
      continue;
    }
    await lens.click();
    const result = page.locator('.tab', { hasText: tab });
    const shown = await appears(result, 60_000);
    if (shown && (await appears(page.locator('.notification-toast', { hasText: verdict }), 10_000))) {
      await page.mouse.move(5, 5);
      await (name === 'code-lens.png' ? shot(name) : debugShot(name));
    } else {
      missed.push(`${name} (the "${label}" lens showed no result within 60 s)`);
      await debugShot(`no-result-${name}`);
    }
    // Close the result (its group closes with it): qa.dspx alone again, cursor still on line 1.
    if (shown) {
      await result.hover();
      await result.locator('.tab-actions .action-label').first().click();
    }
    await closeNotifications();
  }
  await scrollToLine(14);
}

/** Types a misspelt name into the step call and shows the server's error: squiggle, hover, Problems. */
async function diagnosticsShot() {
  // Room for the Problems panel below the editor.
  await page.setViewportSize({ width: 1280, height: 1000 });
  // A double click selects the word; typing replaces it, as a user would.
  const word = await tokenPoint('question', /AnswerQuestion\(/);
  if (word === undefined) {
    missed.push('diagnostics.png (no `question` argument in the step call)');
    return;
  }
  await page.mouse.dblclick(word.x, word.y);
  await page.keyboard.type('quesion');
  const squiggle = page.locator('.view-overlays .squiggly-error');
  if (!(await appears(squiggle, 30_000))) {
    missed.push('diagnostics.png (no error squiggle within 30 s of the edit)');
    await debugShot('no-diagnostics.png');
    return;
  }
  await page.keyboard.press('Control+Shift+M');
  await page.locator('.markers-panel .monaco-list-row').first().waitFor({ timeout: 10_000 });
  if (await hoverShows('quesion', /AnswerQuestion\(/, /did you mean/)) {
    await shot('diagnostics.png');
  } else {
    missed.push('diagnostics.png (no hover on the error)');
    await debugShot('no-diagnostics-hover.png');
  }
  await dismissHover();
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
  const toast = page.locator('.notification-toast');
  for (let attempt = 0; attempt < 10 && (await toast.count()) > 0; attempt += 1) {
    // A toast shows its close button only while the mouse is over it.
    await toast.first().hover();
    await toast.first().locator('.codicon-notifications-clear').click({ timeout: 2_000 }).catch(() => undefined);
    await page.waitForTimeout(200);
  }
  await page.mouse.move(5, 5);
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

/** Puts the cursor on line 1, then scrolls the editor so that `line` (1-based) is the first visible line. */
async function scrollWithoutCursor(line) {
  await page.keyboard.press('Control+1');
  await page.keyboard.press('Control+Home');
  for (let moved = 1; moved < line; moved += 1) {
    // Ctrl+Down is "Scroll Line Down": the view moves, the cursor does not.
    await page.keyboard.press('Control+ArrowDown');
  }
  await page.waitForTimeout(300);
}

/** Hovers the word `text` on the line matching `line` until a hover containing `expected` shows. */
async function hoverShows(text, line, expected) {
  const hover = page.locator('.monaco-hover:visible', { hasText: expected });
  // A hover can be lost to a layout change or an earlier one closing: try again from elsewhere.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    await hoverToken(text, line);
    if (await appears(hover, 5_000)) {
      return true;
    }
  }
  return false;
}

/** Moves the mouse over the word `text` on the first visible line matching `line`. */
async function hoverToken(text, line) {
  const point = await tokenPoint(text, line);
  if (point !== undefined) {
    // From elsewhere: a move to where the mouse already is (after a click) starts no hover.
    await page.mouse.move(5, 5);
    await page.mouse.move(point.x, point.y, { steps: 4 });
  }
}

/** The middle of the word `text` on the first visible line matching `line`, if shown. */
async function tokenPoint(text, line) {
  const row = page.locator('.monaco-editor .view-lines .view-line').filter({ hasText: line }).first();
  // Playwright's string `hasText` ignores case (`question` would find `AnswerQuestion`).
  const span = row.locator('span span', { hasText: new RegExp(`\\b${text}\\b`) }).first();
  const box = await span.boundingBox().catch(() => null);
  if (box === null) {
    return undefined;
  }
  // A token's span may hold more than the word (e.g. `(context, question)`): find the word in it.
  const content = (await span.textContent()) ?? '';
  const charWidth = box.width / Math.max(1, content.length);
  const index = Math.max(0, content.search(new RegExp(`\\b${text}\\b`)));
  return { x: box.x + charWidth * (index + text.length / 2), y: box.y + box.height / 2 };
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

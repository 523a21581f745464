// Loads an lcae report.html in Debian's headless Chromium through playwright-core, fails on
// any console error or page error, moves the mouse over the first cluster map and checks
// that the pattern canvas then holds a picture (several distinct colours) and that the
// panel names a cluster (or noise) for every map.
//   node check_report.js REPORT.html [SCREENSHOT.png]
// Exit status 0 when all is well, 1 with a message otherwise.
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');

async function main() {
  const html = path.resolve(process.argv[2] || '');
  if (!process.argv[2] || !fs.existsSync(html)) throw new Error(`no report at ${html}`);
  const shot = process.argv[3];
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lcae-chromium-'));
  const context = await chromium.launchPersistentContext(userDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 1000 },
  });
  const errors = [];
  const requests = [];
  try {
    const page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    // a self-contained page asks for nothing but itself and data: URIs
    page.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith('data:') && u !== 'file://' + html) requests.push(u);
    });
    await page.goto('file://' + html, { waitUntil: 'load' });
    const maps = page.locator('img.hover');
    const nmaps = await maps.count();
    if (nmaps < 1) throw new Error('no hoverable map (img.hover) in the page');
    const box = await maps.first().boundingBox();
    await maps.first().scrollIntoViewIfNeeded();
    const b = await maps.first().boundingBox();
    await page.mouse.move(b.x + b.width * 0.3, b.y + b.height * 0.6);
    await page.mouse.move(b.x + b.width * 0.35, b.y + b.height * 0.55);
    // the sprite may still be decoding: wait for a picture in the canvas
    await page.waitForFunction(() => {
      const c = document.getElementById('pattern');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const seen = new Set();
      for (let i = 0; i < d.length; i += 4) if (d[i + 3]) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      return seen.size >= 2;
    }, null, { timeout: 15000 });
    const text = await page.locator('#probe-text').innerText();
    if (!/position/.test(text)) throw new Error(`the panel shows no position: ${text}`);
    const rows = await page.locator('#probe-text tr').allInnerTexts();
    if (rows.length !== nmaps) throw new Error(`${rows.length} rows in the panel for ${nmaps} maps`);
    for (const r of rows)
      if (!/(cluster|class|grain) \d+|noise/.test(r)) throw new Error(`no cluster in panel row: ${r}`);
    if (shot) await page.screenshot({ path: shot, fullPage: true });
    if (box === null) throw new Error('the map is not displayed');
    console.log(`report_browser: ${nmaps} maps, hover shows a pattern and ${rows.join(' | ')}`);
  } finally {
    await context.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
  if (requests.length) errors.push(`requests beyond the page: ${requests.join(', ')}`);
  if (errors.length) throw new Error(errors.join('\n'));
}

main().then(() => process.exit(0), (e) => {
  console.error(`report_browser: FAILED: ${e.message}`);
  process.exit(1);
});

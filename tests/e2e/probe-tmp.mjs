import { launchChromium, serveStatic } from '/work/main/tests/e2e/helpers.mjs';
const server = await serveStatic('/tmp/dist-views', { prefix: '/h/' });
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
page.on('console', (m) => console.log('console', m.type(), m.text()));
await page.goto(server.url);
await page.waitForSelector('html[data-ready="true"]');
await page.click('[data-role="text-input"]');
const seq = [];
for (let i = 0; i < 30; i++) { await page.keyboard.press('Tab'); seq.push(await page.evaluate(() => { const a = document.activeElement; return a.tagName + '.' + a.className + (a.dataset.layer ?? ''); })); }
console.log(seq.join('\n'));
const g = JSON.parse(await page.getAttribute('[data-role="detail-canvas"]', 'data-geometry'));
const box = await page.$eval('[data-role="detail-canvas"]', (c) => c.getBoundingClientRect().toJSON());
console.log(g, box);
await page.mouse.move(box.x + g.x0 + 0.5 * g.cell, box.y + g.y0 + 0.5 * g.cell);
await page.waitForTimeout(100);
console.log(await page.evaluate(() => document.querySelector('.tooltip').outerHTML));
await page.screenshot({ path: '/tmp/probe.png' });
await browser.close(); await server.close();

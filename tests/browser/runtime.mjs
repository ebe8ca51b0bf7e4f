// runtime.mjs: client/popups.js on synthetic pages, for what the demo pack
// does not declare: idle, scroll depth, repeat visit, the touch-screen exit,
// unknown triggers and documents, the fetch fallback. No server: Playwright
// answers every request of http://shop.test/ itself. Run by
// tests/integration/test_browser_popups.py; by hand:
//
//   node tests/browser/runtime.mjs [--chromium PATH]

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const CHROMIUM = argv[argv.indexOf("--chromium") + 1] || "/usr/bin/chromium";
const RUNTIME = fs.readFileSync(path.join(here, "..", "..", "client", "popups.js"));
const WAIT = 30000;

class Failure extends Error {}
const check = (cond, what) => {
  if (!cond) throw new Failure(what);
};

const html = '<h2>Hello</h2><p>Offer</p><a href="/next" data-tailor-convert>Go</a>';
const directives = (popups, extra = {}) =>
  JSON.stringify({v: 1, popups, beacon: "/tailor/beacon", ...extra})
    .replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");
// The module gives each pop-up a token (docs/popups.md, "The token"); the
// runtime sends it back with every beacon about that pop-up.
const tok = id => "k1.6560f1a0AAAAAAAAAAA." + (id + "_".repeat(22)).slice(0, 22);
const popup = (id, trigger) => ({token: tok(id), id, trigger, html, intent: "browse"});
const sent = (e, id) => `POST ?e=${e}&p=${id}&t=${tok(id)}`;
// A tall page, the directives, the runtime: what the module sends.
const page = doc => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head>
<body style="margin:0"><a id="start" href="/">start</a><div style="height:4000px"></div>
<script type="application/json" id="tailor-directives">${doc}</script><script src="/tailor/popups.js?v=1" defer></script>
</body></html>`;

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  timeout: 120000,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

const pageErrors = [];
// One fresh context per scenario; `body` is the page at http://shop.test/.
async function open(body, {clock = true, touch = false, init} = {}) {
  const ctx = await browser.newContext(touch ? {isMobile: true, hasTouch: true, viewport: {width: 390, height: 700}}
                                             : {viewport: {width: 1280, height: 800}});
  ctx.setDefaultTimeout(WAIT);
  if (clock) {
    // Paused: the page's time moves only by runFor, however slow the machine.
    const t = Date.now();
    await ctx.clock.install({time: t});
    await ctx.clock.pauseAt(t + 1000);
  }
  if (init) await ctx.addInitScript(init);
  ctx.beacons = [];
  await ctx.route("http://shop.test/**", route => {
    const u = new URL(route.request().url());
    if (u.pathname === "/tailor/popups.js")
      return route.fulfill({contentType: "application/javascript", body: RUNTIME});
    if (u.pathname === "/tailor/beacon") {
      ctx.beacons.push(`${route.request().method()} ${u.search}`);
      return route.fulfill({status: 204});
    }
    return route.fulfill({contentType: "text/html", body: u.pathname === "/" ? body : "<p>next</p>"});
  });
  const p = await ctx.newPage();
  p.on("pageerror", e => pageErrors.push(String(e)));
  await p.goto("http://shop.test/");
  return {ctx, p};
}
const shown = p => p.locator(".tailor-popup-backdrop").count();
const armed = p => p.waitForFunction(() => window.tailorPopups);
// Beacons are async: wait until the n-th arrived.
async function beacons(ctx, n) {
  for (const t0 = Date.now(); ctx.beacons.length < n && Date.now() - t0 < WAIT;)
    await new Promise(r => setTimeout(r, 20));
  return ctx.beacons;
}

const scenarios = [];
const scenario = (name, fn) => scenarios.push({name, fn});

scenario("idle: input resets the timer; no input for the time shows it", async () => {
  const {ctx, p} = await open(page(directives([popup("idle", {type: "idle", seconds: 20})])));
  await armed(p);
  await ctx.clock.runFor(15000);
  await p.mouse.move(100, 100);
  await ctx.clock.runFor(15000);
  await p.keyboard.press("Shift");
  await ctx.clock.runFor(15000);
  check(await shown(p) === 0, "idle showed although there was input within every 20 s");
  await ctx.clock.runFor(6000);
  check(await shown(p) === 1, "idle did not show after 20 s without input");
  await ctx.close();
});

scenario("scroll depth: shows once the share of the page was scrolled", async () => {
  const {ctx, p} = await open(page(directives([popup("deep", {type: "scroll_depth", percent: 60})])), {clock: false});
  await armed(p);
  await p.evaluate(() => scrollTo(0, 1000));
  await p.evaluate(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))));
  check(await shown(p) === 0, "scroll depth showed at (1000 + 800) / 4000+ of the page");
  await p.evaluate(() => scrollTo(0, 2000));
  await p.locator("[role=dialog]").waitFor();
  await ctx.close();
});

scenario("repeat visit shows on load; one pop-up per page view; tailorPopups.show", async () => {
  const doc = directives([popup("first", {type: "repeat_visit", n: 3, within_days: 30}),
                          popup("second", {type: "repeat_visit", n: 3})]);
  const {ctx, p} = await open(page(doc) + `<script type="application/json" id="tailor-directives">${
    directives([popup("third", {type: "repeat_visit"})])}</script>`);
  await p.locator("[role=dialog]").waitFor();
  check(await p.getAttribute(".tailor-popup-backdrop", "data-popup") === "first", "the first pop-up did not win");
  await p.evaluate(() => ["first", "second", "third"].forEach(id => window.tailorPopups.show(id)));
  check(await shown(p) === 1, "a second pop-up showed on the same page view");
  check(JSON.stringify(await beacons(ctx, 1)) === JSON.stringify([sent("impression", "first")]),
        `beacons: ${JSON.stringify(ctx.beacons)}`);
  await ctx.close();
});

scenario("unknown triggers, other versions and broken JSON are ignored, without errors", async () => {
  for (const doc of [directives([popup("u", {type: "shake"})]),
                     directives([popup("v2", {type: "repeat_visit"})], {v: 2}),
                     directives([popup("nt", null)]), "{not json", "null", "[]"]) {
    const {ctx, p} = await open(page(doc));
    await armed(p);
    await p.evaluate(() => ["u", "v2"].forEach(id => window.tailorPopups.show(id)));
    check(await shown(p) === 0, `something showed for ${doc}`);
    await ctx.close();
  }
  check(pageErrors.length === 0, `errors thrown into the page: ${pageErrors.join("; ")}`);
});

scenario("a broken pop-up does not keep the next one from showing", async () => {
  const {ctx, p} = await open(page(directives([null, {id: "nt"}, popup("ok", {type: "repeat_visit"})])));
  await p.locator("[role=dialog]").waitFor();
  check(await p.getAttribute(".tailor-popup-backdrop", "data-popup") === "ok", "the wrong pop-up showed");
  await ctx.close();
});

scenario("no heading: the dialog is labelled Offer", async () => {
  const {ctx, p} = await open(page(directives([{id: "plain", trigger: {type: "repeat_visit"}, html: "<p>hi</p>", intent: "cart"}])));
  await p.getByRole("dialog", {name: "Offer"}).waitFor();
  await ctx.close();
});

scenario("touch screen: a fast flick up is an exit, a slow scroll up is not", async () => {
  const {ctx, p} = await open(page(directives([popup("exit", {type: "exit_intent"})])), {clock: false, touch: true});
  await armed(p);
  const to = y => p.evaluate(y => scrollTo(0, y), y);
  for (let y = 0; y <= 1500; y += 500) await to(y);
  // 25 px every 400 ms: moving up, but nobody is leaving
  for (let y = 1500; y >= 1300; y -= 25) {
    await to(y);
    await p.waitForTimeout(400);
  }
  check(await shown(p) === 0, "a slow scroll up showed the exit pop-up");
  // 50 px a frame, inside the page so a slow machine cannot stretch it
  await p.evaluate(() => new Promise(done => {
    let n = 0;
    const step = () => {
      scrollBy(0, -50);
      ++n < 5 ? requestAnimationFrame(step) : done();
    };
    requestAnimationFrame(step);
  }));
  await p.locator("[role=dialog]").waitFor();
  await ctx.close();
});

scenario("a page hidden when the pop-up is due shows it when the visitor is back", async () => {
  // the tab is hidden from the start (opened in the background)
  const init = () => {
    let hidden = true;
    Object.defineProperty(document, "hidden", {get: () => hidden});
    window.__show = () => {
      hidden = false;
      document.dispatchEvent(new Event("visibilitychange"));
    };
  };
  const {ctx, p} = await open(page(directives([popup("lg", {type: "linger", seconds: 5})])), {init});
  await armed(p);
  await ctx.clock.runFor(60000);
  check(await shown(p) === 0, "linger counted time while the tab was hidden");
  await p.evaluate(() => window.__show());
  await ctx.clock.runFor(4000);
  check(await shown(p) === 0, "linger showed before 5 visible seconds");
  await ctx.clock.runFor(1500);
  check(await shown(p) === 1, "linger did not show after 5 visible seconds");
  await ctx.close();
});

scenario("without sendBeacon the beacon goes by fetch", async () => {
  const {ctx, p} = await open(page(directives([popup("fb", {type: "repeat_visit"})])),
                              {init: () => delete Navigator.prototype.sendBeacon});
  await p.locator("[role=dialog]").waitFor();
  await p.locator(".tailor-popup-close").click();
  check(JSON.stringify(await beacons(ctx, 2)) === JSON.stringify([sent("impression", "fb"), sent("close", "fb")]),
        `beacons: ${JSON.stringify(ctx.beacons)}`);
  await ctx.close();
});

scenario("each pop-up's beacons carry its own token; none without one", async () => {
  const doc = directives([popup("tk", {type: "linger", seconds: 5}), popup("other", {type: "linger", seconds: 60})]);
  const {ctx, p} = await open(page(doc));
  await armed(p);
  await ctx.clock.runFor(6000);
  await p.locator("[role=dialog]").waitFor();
  await p.locator("[data-tailor-convert]").click();
  check(JSON.stringify(await beacons(ctx, 2)) === JSON.stringify([sent("impression", "tk"), sent("conversion", "tk")]),
        `beacons: ${JSON.stringify(ctx.beacons)}`);
  await ctx.close();

  // a directive without a token (not what the module writes): reported
  // without `t=`, and the module refuses it (tests/integration/test_popup_tokens.py)
  const bare = {id: "bare", trigger: {type: "repeat_visit"}, html, intent: "browse"};
  const b = await open(page(directives([bare])));
  await b.p.locator("[role=dialog]").waitFor();
  check(JSON.stringify(await beacons(b.ctx, 1)) === JSON.stringify(["POST ?e=impression&p=bare"]),
        `beacons: ${JSON.stringify(b.ctx.beacons)}`);
  await b.ctx.close();
});

let failed = 0;
for (const {name, fn} of scenarios) {
  const t0 = Date.now();
  try {
    await fn();
    check(pageErrors.length === 0, `errors thrown into the page: ${pageErrors.join("; ")}`);
    console.log(`ok     ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed = 1;
    console.log(`FAILED ${name}\n       ${e instanceof Failure ? e.message : e.stack}`);
    break;
  }
}
await browser.close();
console.log(failed ? "runtime tests FAILED" : `runtime tests passed (${scenarios.length} scenarios)`);
process.exit(failed);

// popups.mjs: the pop-up runtime (client/popups.js) on the demo storefront, in
// Debian's headless Chromium. Run by tests/integration/test_browser_popups.py,
// which starts the demo; by hand, against a running `make demo`:
//
//   node tests/browser/popups.mjs --base http://127.0.0.1:8080 --redis-port 6390
//
// Each scenario prints one "ok" line; the first failure prints why and exits 1.
// Caps are checked where they live, in Redis (tailor:{vid}:caps), so a passing
// run means the beacon reached the module and the module wrote the record.
//
//   --artifacts DIR        where a failing scenario leaves a screenshot
//   --chromium PATH        default /usr/bin/chromium
//   TAILOR_SCREENSHOT_DIR  also save the docs' picture, popup-cart-rescue.png

import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((a, v, i, all) => (i % 2 ? a : [...a, [v.replace(/^--/, ""), all[i + 1]]]), []));
const BASE = args.base;
const REDIS_PORT = Number(args["redis-port"]);
const ARTIFACTS = args.artifacts || os.tmpdir();
const CHROMIUM = args.chromium || "/usr/bin/chromium";
const SHOTS = process.env.TAILOR_SCREENSHOT_DIR;
// Bounds on waiting, never asserted: 2 shared cores, and a sanitizer build.
const WAIT = 30000;

if (!BASE || !REDIS_PORT) {
  console.error("usage: node popups.mjs --base http://127.0.0.1:PORT --redis-port PORT");
  process.exit(2);
}

class Failure extends Error {}
const check = (cond, what) => {
  if (!cond) throw new Failure(what);
};

// ---------------------------------------------------------------------------
// Redis: one command per connection is all a test needs

function redis(...argv) {
  const req = `*${argv.length}\r\n` + argv.map(a => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join("");
  return new Promise((resolve, reject) => {
    const s = net.connect(REDIS_PORT, "127.0.0.1");
    let buf = Buffer.alloc(0);
    s.setTimeout(WAIT, () => s.destroy(new Error("redis: no reply")));
    s.on("error", reject);
    s.on("data", d => {
      buf = Buffer.concat([buf, d]);
      const r = parseResp(buf, 0);
      if (r) {
        s.end();
        r.value instanceof Error ? reject(r.value) : resolve(r.value);
      }
    });
    s.write(req);
  });
}

// -> {value, end} or null while incomplete; bulk strings stay Buffers
function parseResp(b, i) {
  const eol = b.indexOf("\r\n", i);
  if (eol < 0) return null;
  const t = String.fromCharCode(b[i]), line = b.toString("latin1", i + 1, eol), next = eol + 2;
  if (t === "+") return {value: line, end: next};
  if (t === "-") return {value: new Error("redis: " + line), end: next};
  if (t === ":") return {value: Number(line), end: next};
  if (t === "$") {
    const n = Number(line);
    if (n < 0) return {value: null, end: next};
    return b.length < next + n + 2 ? null : {value: b.subarray(next, next + n), end: next + n + 2};
  }
  if (t === "*") {
    const n = Number(line), out = [];
    let at = next;
    for (let k = 0; k < n; k++) {
      const r = parseResp(b, at);
      if (!r) return null;
      out.push(r.value);
      at = r.end;
    }
    return {value: n < 0 ? null : out, end: at};
  }
  throw new Error("redis: unexpected reply " + JSON.stringify(line));
}

// MessagePack: maps, arrays, strings, integers, nil, booleans, floats
function unpack(b) {
  let i = 0;
  const u = n => {
    let v = 0;
    for (let k = 0; k < n; k++) v = v * 256 + b[i++];
    return v;
  };
  const s = n => b.toString("utf8", i, (i += n));
  const arr = n => Array.from({length: n}, one);
  const map = n => {
    const o = {};
    for (let k = 0; k < n; k++) o[one()] = one();
    return o;
  };
  function one() {
    const t = b[i++];
    if (t <= 0x7f) return t;
    if (t >= 0xe0) return t - 0x100;
    if ((t & 0xf0) === 0x80) return map(t & 0x0f);
    if ((t & 0xf0) === 0x90) return arr(t & 0x0f);
    if ((t & 0xe0) === 0xa0) return s(t & 0x1f);
    switch (t) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xcc: return u(1);
      case 0xcd: return u(2);
      case 0xce: return u(4);
      case 0xcf: return u(8);
      case 0xd0: return b.readInt8((i += 1) - 1);
      case 0xd1: return b.readInt16BE((i += 2) - 2);
      case 0xd2: return b.readInt32BE((i += 4) - 4);
      case 0xd3: return Number(b.readBigInt64BE((i += 8) - 8));
      case 0xca: return b.readFloatBE((i += 4) - 4);
      case 0xcb: return b.readDoubleBE((i += 8) - 8);
      case 0xd9: return s(u(1));
      case 0xda: return s(u(2));
      case 0xdb: return s(u(4));
      case 0xdc: return arr(u(2));
      case 0xdd: return arr(u(4));
      case 0xde: return map(u(2));
      case 0xdf: return map(u(4));
    }
    throw new Error(`msgpack: unsupported type 0x${t.toString(16)} at ${i - 1}`);
  }
  const v = one();
  if (i !== b.length) throw new Error(`msgpack: ${b.length - i} bytes after the value`);
  return v;
}

const capsKey = vid => `tailor:{${vid}}:caps`;
async function caps(vid) {
  const raw = await redis("GET", capsKey(vid));
  return raw === null ? null : unpack(raw);
}
// The record of one pop-up once `pred` holds for it (the beacon is async).
async function capsUntil(vid, id, pred, what) {
  const deadline = Date.now() + WAIT;
  let last = null;
  for (let pause = 20; ; pause = Math.min(pause * 2, 250)) {
    const c = await caps(vid);
    last = c && c.p && c.p[id];
    if (last && pred(last)) return last;
    if (Date.now() > deadline)
      throw new Failure(`${what}: ${capsKey(vid)} never showed it; last record of ${id}: ${JSON.stringify(last)}`);
    await new Promise(r => setTimeout(r, pause));
  }
}

// ---------------------------------------------------------------------------
// the browser

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  timeout: 120000,
  // Debian's Chromium as it is: nothing is downloaded, nothing phones home.
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

// A context is a device: its own cookie jar. Every page records the runtime's
// DOM events and the beacons it sends, with the module's answers.
const pageErrors = [];
async function device({clock = false, cookies} = {}) {
  // a visitor's browser: headless Chrome's own User-Agent says "HeadlessChrome",
  // which the module treats as a crawler (no cookie, no state)
  const ctx = await browser.newContext({viewport: {width: 1280, height: 800},
                                        userAgent: "Mozilla/5.0 (X11; Linux x86_64) " +
                                          "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"});
  ctx.setDefaultTimeout(WAIT);
  ctx.setDefaultNavigationTimeout(WAIT * 2);
  if (clock) {
    // Paused: the page's time moves only by runFor, however slow the machine.
    const t = Date.now();
    await ctx.clock.install({time: t});
    await ctx.clock.pauseAt(t + 1000);
  }
  if (cookies) await ctx.addCookies(cookies);
  await ctx.addInitScript(() => {
    window.__tailorEvents = [];
    for (const n of ["shown", "closed", "converted"])
      document.addEventListener("tailor:popup-" + n, e => window.__tailorEvents.push([n, e.detail]));
  });
  ctx.beacons = [];
  ctx.on("page", page => {
    page.on("pageerror", e => pageErrors.push(String(e)));
    page.on("request", req => {
      if (!req.url().includes("/tailor/beacon")) return;
      const b = {method: req.method(), query: new URL(req.url()).search, status: null};
      b.answered = req.response().then(res => (b.status = res && res.status()), () => {});
      ctx.beacons.push(b);
    });
  });
  return ctx;
}

async function vidOf(ctx) {
  const c = (await ctx.cookies(BASE)).find(c => c.name === "tailor_vid");
  check(c, "the persona link set no tailor_vid cookie");
  return {vid: c.value.split(".")[0], cookie: c};
}

async function directives(page) {
  const text = await page.evaluate(() => {
    const e = document.getElementById("tailor-directives");
    return e && e.textContent;
  });
  return text && JSON.parse(text);
}

// The runtime is loaded and armed (the script is deferred: by `load` it ran).
const runtime = page => page.waitForFunction(() => window.tailorPopups);

const backdrops = page => page.locator(".tailor-popup-backdrop");
const dialog = page => page.locator(".tailor-popup-backdrop [role=dialog]");

// Leave through the top edge: headless Chromium sends mouseout with no
// relatedTarget when the pointer goes above the viewport.
async function exitTop(page) {
  await page.mouse.move(640, 300);
  await page.mouse.move(640, 5);
  await page.mouse.move(640, -20);
}

const events = page => page.evaluate(() => window.__tailorEvents);
// What the runtime sent, without the token, sorted; and every token it sent.
const sentQueries = ctx => ctx.beacons.map(b => b.query.replace(/&t=[^&]*$/, "")).sort();
const sentTokens = ctx => [...new Set(ctx.beacons.map(b => (/&t=([^&]*)$/.exec(b.query) || [])[1]))];
const activeElement = page => page.evaluate(() => {
  const a = document.activeElement;
  return a ? a.outerHTML.slice(0, 80) : null;
});

// ---------------------------------------------------------------------------
// scenarios

const scenarios = [];
const scenario = (name, fn) => scenarios.push({name, fn});
const state = {};

scenario("exit intent shows the cart pop-up once, as an accessible dialog", async () => {
  const ctx = await device({clock: true});
  state.cart = ctx;
  const page = (state.cartPage = await ctx.newPage());
  await page.goto(BASE + "/as/cart-abandoner");
  check(new URL(page.url()).pathname === "/", `the persona link should land on /, got ${page.url()}`);
  Object.assign(state, await vidOf(ctx));
  const dir = await directives(page);
  check(dir && dir.v === 1 && dir.popups.length === 1, `directives for the cart persona: ${JSON.stringify(dir)}`);
  const p = dir.popups[0];
  check(p.id === "cart-rescue" && p.intent === "cart" && p.trigger.type === "exit_intent",
        `the cart persona's pop-up: ${JSON.stringify(p)}`);
  check(/^[A-Za-z0-9_-]{1,16}\.[0-9a-f]{8}[A-Za-z0-9_-]{11}\.[A-Za-z0-9_-]{22}$/.test(p.token),
        `the pop-up's token: ${JSON.stringify(p)}`);
  state.token = p.token;
  await runtime(page);

  // focus somewhere, to see it come back after the dialog
  await page.focus("header a");
  state.focused = await activeElement(page);

  // not armed during the first second: passing the top edge is not leaving
  await exitTop(page);
  check(await backdrops(page).count() === 0, "a pop-up showed on an exit within the first second");
  await ctx.clock.runFor(1500);
  await exitTop(page);
  await dialog(page).waitFor({state: "visible"});

  const shape = await page.evaluate(() => {
    const bd = document.querySelector(".tailor-popup-backdrop"), dlg = bd.firstElementChild;
    const title = document.getElementById(dlg.getAttribute("aria-labelledby") || "");
    return {
      intent: bd.dataset.intent, popup: bd.dataset.popup, cls: dlg.className, modal: dlg.getAttribute("aria-modal"),
      title: title && title.textContent, titleInside: !!title && dlg.contains(title),
      close: dlg.querySelector(":scope > button.tailor-popup-close[aria-label=Close]") !== null,
      body: !!dlg.querySelector(":scope > .tailor-popup-body [data-tailor-convert]"),
      focusInside: dlg.contains(document.activeElement),
    };
  });
  check(shape.intent === "cart" && shape.popup === "cart-rescue", `backdrop data attributes: ${JSON.stringify(shape)}`);
  check(shape.cls === "tailor-popup" && shape.modal === "true", `dialog attributes: ${JSON.stringify(shape)}`);
  check(shape.titleInside && /Leaving already/.test(shape.title), `aria-labelledby names the heading: ${JSON.stringify(shape)}`);
  check(shape.close && shape.body, `close button and body: ${JSON.stringify(shape)}`);
  check(shape.focusInside, "focus did not move into the dialog");
  check(await page.getByRole("dialog", {name: /Leaving already/}).isVisible(), "no visible dialog named by its heading");

  const ev = await events(page);
  check(JSON.stringify(ev) === JSON.stringify([["shown", {id: "cart-rescue", intent: "cart"}]]),
        `DOM events: ${JSON.stringify(ev)}`);

  // a second exit does not stack a second pop-up
  await exitTop(page);
  check(await backdrops(page).count() === 1, "a second exit showed a second pop-up");

  const rec = await capsUntil(state.vid, "cart-rescue", r => Array.isArray(r.imp) && r.imp.length >= 1,
                              "the impression beacon");
  check(rec.imp.length === 1, `one impression recorded, got ${JSON.stringify(rec)}`);
});

scenario("Tab stays inside, Escape closes, focus returns, the close is recorded", async () => {
  const page = state.cartPage, ctx = state.cart;
  const inside = () => page.evaluate(() => document.querySelector("[role=dialog]").contains(document.activeElement));
  for (const key of ["Tab", "Tab", "Tab", "Tab", "Shift+Tab", "Shift+Tab", "Shift+Tab", "Shift+Tab"]) {
    await page.keyboard.press(key);
    check(await inside(), `focus left the dialog after ${key}: ${await activeElement(page)}`);
  }
  await page.keyboard.press("Escape");
  await backdrops(page).waitFor({state: "detached"});
  const back = await activeElement(page);
  check(back === state.focused, `focus should return to ${state.focused}, is on ${back}`);
  const ev = (await events(page)).map(e => e[0]);
  check(JSON.stringify(ev) === JSON.stringify(["shown", "closed"]), `DOM events: ${JSON.stringify(ev)}`);

  const rec = await capsUntil(state.vid, "cart-rescue", r => r.close > 0, "the close beacon");
  check(!rec.conv, `no conversion recorded: ${JSON.stringify(rec)}`);

  // at most one per page view, also after it was closed
  await ctx.clock.runFor(1500);
  await exitTop(page);
  await page.evaluate(() => window.tailorPopups.show("cart-rescue"));
  check(await backdrops(page).count() === 0, "the pop-up came back on the same page view");

  const sent = sentQueries(ctx);
  check(JSON.stringify(sent) === JSON.stringify(["?e=close&p=cart-rescue", "?e=impression&p=cart-rescue"]),
        `beacons sent: ${JSON.stringify(ctx.beacons)}`);
  check(JSON.stringify(sentTokens(ctx)) === JSON.stringify([state.token]),
        `the beacons did not carry the page's token ${state.token}: ${JSON.stringify(ctx.beacons)}`);
  await Promise.all(ctx.beacons.map(b => b.answered));
  const refused = ctx.beacons.filter(b => !(b.status >= 200 && b.status < 300));
  check(refused.length === 0, `the module refused beacons: ${JSON.stringify(refused)}`);
});

scenario("the caps stop it on the next page view and on another device", async () => {
  const page = state.cartPage;
  await page.reload();
  check(await directives(page) === null, `a capped pop-up still came with the page: ${JSON.stringify(await directives(page))}`);
  check(await page.locator("script[src^='/tailor/popups.js']").count() === 0, "the runtime was loaded without directives");
  await state.cart.clock.runFor(1500);
  await exitTop(page);
  check(await backdrops(page).count() === 0, "a pop-up showed on exit after the cap");

  // another device: same visitor (the cookie), nothing else shared
  const other = await device({cookies: [state.cookie]});
  const p2 = await other.newPage();
  await p2.goto(BASE + "/");
  check(await directives(p2) === null, "the other device got the capped pop-up");
  await exitTop(p2);
  check(await backdrops(p2).count() === 0, "a pop-up showed on the other device");
  await other.close();
});

scenario("linger: an add-to-cart before the timer prevents it, otherwise it shows", async () => {
  const ctx = await device({clock: true});
  const page = await ctx.newPage();
  await page.goto(BASE + "/as/first-time-buyer");
  const {vid} = await vidOf(ctx);
  await page.goto(BASE + "/products/coffee-beans.html");
  const dir = await directives(page);
  check(dir && dir.popups.length === 1, `directives on the product page: ${JSON.stringify(dir)}`);
  const p = dir.popups[0];
  check(p.id === "product-help" && p.trigger.type === "linger" && p.trigger.seconds > 0,
        `the product page's pop-up: ${JSON.stringify(p)}`);
  const ms = p.trigger.seconds * 1000;
  await runtime(page);
  check(await page.locator("[data-tailor-add-to-cart]").count() > 0,
        "the demo product page has no [data-tailor-add-to-cart] button");

  await ctx.clock.runFor(ms / 2);
  await page.click("[data-tailor-add-to-cart]");
  await ctx.clock.runFor(ms * 2);
  check(await backdrops(page).count() === 0, "the linger pop-up showed after an add-to-cart");
  check(await caps(vid) === null, "an impression was recorded although nothing showed");

  await page.reload();
  check((await directives(page)) !== null, "no pop-up offered on the second product view");
  await runtime(page);
  await ctx.clock.runFor(ms - 1000);
  check(await backdrops(page).count() === 0, "the linger pop-up showed before its time");
  await ctx.clock.runFor(2000);
  await dialog(page).waitFor({state: "visible"});
  const shape = await page.evaluate(() => {
    const bd = document.querySelector(".tailor-popup-backdrop");
    return {intent: bd.dataset.intent, popup: bd.dataset.popup};
  });
  check(shape.intent === "product" && shape.popup === "product-help", `linger backdrop: ${JSON.stringify(shape)}`);
  await capsUntil(vid, "product-help", r => Array.isArray(r.imp) && r.imp.length === 1, "the linger impression");
  // a click on the backdrop, outside the dialog, dismisses it
  await page.mouse.click(5, 795);
  await backdrops(page).waitFor({state: "detached"});
  await capsUntil(vid, "product-help", r => r.close > 0, "the backdrop close");
  await ctx.close();
});

scenario("a click on [data-tailor-convert] is a conversion, not a close", async () => {
  // a clean slate for the cart persona: its pop-up is capped by now
  await redis("DEL", capsKey(state.vid));
  const ctx = state.cart;
  const page = await ctx.newPage();
  ctx.beacons.length = 0;
  await page.goto(BASE + "/");
  const dir = await directives(page);
  check(dir !== null, "no pop-up offered after the caps were cleared");
  check(dir.popups[0].token && dir.popups[0].token !== state.token, `a fresh token per page view: ${JSON.stringify(dir)}`);
  await runtime(page);
  await ctx.clock.runFor(1500);
  await exitTop(page);
  await dialog(page).waitFor({state: "visible"});
  const convert = dialog(page).locator("[data-tailor-convert]").first();
  const href = await convert.getAttribute("href");
  await Promise.all([page.waitForURL(u => u.pathname === new URL(href, BASE).pathname), convert.click()]);
  const rec = await capsUntil(state.vid, "cart-rescue", r => r.conv > 0, "the conversion beacon");
  check(!rec.close, `a conversion also recorded a close: ${JSON.stringify(rec)}`);
  const sent = sentQueries(ctx);
  check(JSON.stringify(sent) === JSON.stringify(["?e=conversion&p=cart-rescue", "?e=impression&p=cart-rescue"]),
        `beacons sent: ${JSON.stringify(ctx.beacons)}`);
  check(JSON.stringify(sentTokens(ctx)) === JSON.stringify([dir.popups[0].token]),
        `the beacons did not carry the page's token: ${JSON.stringify(ctx.beacons)}`);
  await page.close();
});

if (SHOTS) {
  scenario(`screenshot: ${path.join(SHOTS, "popup-cart-rescue.png")}`, async () => {
    await redis("DEL", capsKey(state.vid));
    const ctx = state.cart;
    const page = await ctx.newPage();
    await page.goto(BASE + "/");
    await runtime(page);
    await ctx.clock.runFor(1500);
    await exitTop(page);
    await dialog(page).waitFor({state: "visible"});
    // the pointer rests outside the picture
    fs.mkdirSync(SHOTS, {recursive: true});
    await page.screenshot({path: path.join(SHOTS, "popup-cart-rescue.png"), animations: "disabled"});
    await page.close();
  });
}

// ---------------------------------------------------------------------------

let failed = 0;
const started = Date.now();
for (const {name, fn} of scenarios) {
  const t0 = Date.now();
  try {
    await fn();
    check(pageErrors.length === 0, `errors thrown in the page: ${pageErrors.join("; ")}`);
    console.log(`ok     ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed = 1;
    console.log(`FAILED ${name}\n       ${e instanceof Failure ? e.message : e.stack}`);
    for (const ctx of browser.contexts())
      for (const [k, page] of ctx.pages().entries()) {
        const file = path.join(ARTIFACTS, `failed-${scenarios.findIndex(s => s.name === name)}-${k}.png`);
        if (await page.screenshot({path: file}).then(() => true, () => false)) console.log(`       screenshot: ${file}`);
      }
    break;
  }
}
await browser.close();
console.log(failed ? "browser pop-up tests FAILED" : `browser pop-up tests passed (${scenarios.length} scenarios, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
process.exit(failed);

// popups.js: the pop-up client runtime. It arms the trigger of the pop-up the
// server chose (docs/popups.md, "The directives JSON") and shows it, at most
// once per page view, as an accessible dialog.
//
// The build strips leading blanks and `//` lines before gzip (budget: 3 KiB),
// so: ES2017, no modules, `//` comments on lines of their own only.
(() => {
  "use strict";
  const d = document, w = window;
  // A theme that includes the script a second time must not arm twice.
  if (w.tailorPopups) return;

  // Nothing here may throw into the shop's page: every callback is fenced.
  const g = f => e => {
    try {
      return f(e);
    } catch (x) {}
  };
  const on = (t, n, f, o) => {
    f = g(f);
    t.addEventListener(n, f, o);
    return f;
  };
  const later = (f, ms) => setTimeout(g(f), ms);
  const now = () => performance.now();
  const ps = {passive: true, capture: true};
  const all = [];
  let done = 0, pending;

  // The token says the module offered this pop-up to this visitor; the
  // beacon records nothing without it (docs/popups.md, "The beacon").
  const send = (e, p) => {
    if (!p.beacon) return;
    const u = p.beacon + "?e=" + e + "&p=" + encodeURIComponent(p.id) +
      (p.token ? "&t=" + encodeURIComponent(p.token) : "");
    try {
      if (navigator.sendBeacon(u)) return;
    } catch (x) {}
    // sendBeacon is missing, or its queue is full: a keepalive fetch also
    // outlives the page.
    try {
      fetch(u, {method: "POST", keepalive: true, credentials: "same-origin"}).catch(() => {});
    } catch (x) {}
  };
  const emit = (n, p) =>
    d.dispatchEvent(new CustomEvent("tailor:popup-" + n, {detail: {id: p.id, intent: p.intent}}));

  // Showing while the tab is hidden would count an impression nobody saw:
  // the first pop-up due then waits for the visitor to come back.
  const fire = p => {
    if (done) return;
    if (d.hidden) pending = pending || p;
    else done = 1, show(p);
  };
  on(d, "visibilitychange", () => pending && fire(pending));

  // A timer that runs only while the page is visible: "the page stays open"
  // means open in front of the visitor, not in a background tab.
  const timer = (s, f) => {
    let left = s * 1e3, t0, id = 0, dead = 0;
    const tick = () => {
      if (dead) return;
      if (d.hidden) {
        if (id) clearTimeout(id), id = 0, left -= now() - t0;
      } else if (!id) {
        t0 = now();
        id = later(f, left);
      }
    };
    on(d, "visibilitychange", tick);
    tick();
    return {
      reset() {
        clearTimeout(id);
        id = 0;
        left = s * 1e3;
        tick();
      },
      stop() {
        clearTimeout(id);
        dead = 1;
      }
    };
  };

  const arm = {
    exit_intent(p) {
      // Armed after a second: a pointer crossing the top edge on its way in
      // is not someone leaving.
      later(() => on(d, "mouseout", e => !e.relatedTarget && e.clientY <= 10 && fire(p)), 1e3);
      if (!w.matchMedia("(pointer:coarse)").matches) return;
      // A touch screen has no pointer to leave: a fast flick back up (to the
      // address bar), or leaving the tab, is the exit. On a desktop both are
      // everyday moves, so they are not armed there.
      let ay = 0, at = 0, py = scrollY;
      on(w, "scroll", () => {
        const y = scrollY, t = now();
        // (ay, at): where and when the upward move began, at most 300 ms ago
        if (y >= py || t - at > 300) ay = Math.max(y, py), at = t;
        else if (ay - y >= 80) fire(p);
        py = y;
      }, ps);
      on(d, "visibilitychange", () => d.hidden && fire(p));
    },
    linger(p, t) {
      const c = timer(t.seconds, () => fire(p));
      // The shopper did what we wanted: no "need help?" after an add-to-cart.
      const add = e => e.target.closest("[data-tailor-add-to-cart]") && c.stop();
      on(d, "click", add, true);
      on(d, "submit", add, true);
    },
    idle(p, t) {
      const c = timer(t.seconds, () => fire(p));
      // coming back to the tab is attention too
      for (const n of ["mousemove", "mousedown", "keydown", "wheel", "touchstart", "scroll", "visibilitychange"])
        on(d, n, c.reset, ps);
    },
    scroll_depth(p, t) {
      const r = d.documentElement;
      on(w, "scroll", () => (scrollY + innerHeight) * 100 >= t.percent * r.scrollHeight && fire(p), ps);
    },
    // decided on the server: the page view itself is the trigger
    repeat_visit: fire
  };

  // :where() has no specificity, so any rule of the shop's wins.
  const css =
    ":where(.tailor-popup-backdrop){position:fixed;inset:0;z-index:2147483000;display:flex;" +
    "align-items:center;justify-content:center;padding:1rem;background:rgba(0,0,0,.5)}" +
    ":where(.tailor-popup){position:relative;box-sizing:border-box;width:100%;max-width:32rem;" +
    "max-height:calc(100vh - 2rem);overflow:auto;padding:2rem 1.5rem 1.5rem;background:#fff;color:#222;" +
    "border-radius:8px;box-shadow:0 8px 32px rgba(0,0,0,.3)}" +
    ":where(.tailor-popup:focus){outline:0}" +
    ":where(.tailor-popup-close){position:absolute;top:.25rem;right:.25rem;padding:.25rem .6rem;" +
    "border:0;background:none;color:inherit;font:inherit;font-size:1.5rem;line-height:1;cursor:pointer}";

  const el = (t, c, a) => {
    const e = d.createElement(t);
    e.className = c;
    for (const k in a) e.setAttribute(k, a[k]);
    return e;
  };

  const show = p => {
    const prev = d.activeElement;
    const st = d.createElement("style");
    st.textContent = css;
    d.head.append(st);
    const bd = el("div", "tailor-popup-backdrop", {"data-intent": p.intent, "data-popup": p.id});
    const dlg = el("div", "tailor-popup", {role: "dialog", "aria-modal": "true", tabindex: "-1"});
    const x = el("button", "tailor-popup-close", {type: "button", "aria-label": "Close"});
    x.textContent = "\u00d7";
    const body = el("div", "tailor-popup-body");
    body.innerHTML = p.html;
    const h = body.querySelector("h1,h2,h3,h4,h5,h6,[role=heading]");
    if (h) {
      h.id = h.id || "tailor-popup-title";
      dlg.setAttribute("aria-labelledby", h.id);
    } else dlg.setAttribute("aria-label", "Offer");
    dlg.append(x, body);
    bd.append(dlg);
    d.body.append(bd);

    let live = 1;
    const end = () => {
      bd.remove();
      d.removeEventListener("keydown", key, true);
      emit("closed", p);
      if (prev && prev.focus) prev.focus();
    };
    const close = () => {
      if (live) live = 0, send("close", p), end();
    };
    const tabbable = () =>
      [...dlg.querySelectorAll("a[href],area[href],button,input,select,textarea,iframe,[tabindex],[contenteditable]")]
        .filter(e => !e.disabled && e.tabIndex >= 0 && e.getClientRects().length);
    const key = on(d, "keydown", e => {
      if (e.key == "Escape") return e.preventDefault(), close();
      if (e.key != "Tab") return;
      const f = tabbable(), a = d.activeElement, s = e.shiftKey, first = f[0], last = f[f.length - 1];
      // wrap around at either end; the dialog itself sits before the first
      if (!dlg.contains(a) || a == (s ? first : last) || s && a == dlg) {
        e.preventDefault();
        (s ? last : first).focus();
      }
    }, true);
    on(x, "click", close);
    on(bd, "click", e => e.target == bd && close());
    on(dlg, "click", e => {
      const c = e.target.closest("[data-tailor-convert]");
      if (!c || !dlg.contains(c) || !live) return;
      live = 0;
      send("conversion", p);
      emit("converted", p);
      // Removing a form now would cancel its submission; the link or form
      // goes on, and the dialog goes after it.
      later(end, 0);
    });
    dlg.focus();
    send("impression", p);
    emit("shown", p);
  };

  const main = () => {
    for (const s of d.querySelectorAll("script#tailor-directives")) {
      try {
        const j = JSON.parse(s.textContent);
        if (j.v !== 1) continue;
        // one broken pop-up must not keep the others from arming
        for (const p of j.popups) g(() => {
          const t = p.trigger;
          if (arm.hasOwnProperty(t.type)) p.beacon = j.beacon, all.push(p), arm[t.type](p, t);
        })();
      } catch (x) {}
    }
  };
  w.tailorPopups = {
    // for the shop's own buttons and for tests; still at most one per page view
    show: id => all.forEach(p => p.id == id && fire(p))
  };
  if (d.readyState == "loading") on(d, "DOMContentLoaded", main);
  else g(main)();
})();

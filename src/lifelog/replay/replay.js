"use strict";
// lifelog replay: scrub the frames of a range. Keys: ←/→ frame, ↑/↓ a minute back/forward,
// "/" find, Enter the next frame whose text matches. Everything it shows is in this page.
(function () {
  const data = JSON.parse(document.getElementById("replay-data").textContent);
  const frames = data.frames;
  const times = frames.map((f) => Date.parse(f.t));
  const heard = data.heard.map((h) => ({ t: Date.parse(h[0]), source: h[1], text: h[2] }));
  const gaps = data.gaps.map((g) => ({ t0: Date.parse(g[0]), t1: Date.parse(g[1]), label: g[2] }));
  const t0 = Date.parse(data.since);
  const t1 = Math.max(Date.parse(data.until), t0 + 1);
  const HEARD_AROUND_MS = 60000; // heard within a minute of the frame is listed
  const HEARD_NOW_MS = 10000; // within 10 s is what was being said then
  const $ = (id) => document.getElementById(id);
  const bar = $("bar");
  const find = $("find");
  let at = 0;

  const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const day = (ms) => new Date(ms).toLocaleDateString();
  const left = (ms) => (100 * (Math.min(Math.max(ms, t0), t1) - t0)) / (t1 - t0) + "%";
  const textOf = (f) => f.s.map((i) => data.texts[i][2]).join("\n");
  const lower = frames.map((f) => (f.a + "\n" + f.w + "\n" + textOf(f)).toLowerCase());

  function drawBar() {
    for (const g of gaps) {
      const el = document.createElement("div");
      el.className = "gap";
      el.style.left = left(g.t0);
      el.style.width = `calc(${left(g.t1)} - ${left(g.t0)} + 1px)`;
      el.title = g.label;
      bar.appendChild(el);
    }
    for (const h of heard) {
      const el = document.createElement("div");
      el.className = "said";
      el.style.left = left(h.t);
      el.title = h.text;
      bar.appendChild(el);
    }
    times.forEach((t) => {
      const el = document.createElement("div");
      el.className = "tick";
      el.style.left = left(t);
      bar.appendChild(el);
    });
  }

  function showSeen(f, query) {
    const box = $("seen");
    box.replaceChildren();
    let place = null;
    let pre = null;
    for (const i of f.s) {
      const [app, win, text] = data.texts[i];
      if (place !== app + "\u0000" + win) {
        place = app + "\u0000" + win;
        const h = document.createElement("h3");
        h.textContent = win ? `${app} — ${win}` : app;
        pre = document.createElement("pre");
        box.append(h, pre);
      }
      const line = document.createElement("div");
      mark(line, text, query);
      pre.appendChild(line);
    }
    if (!f.s.length) box.textContent = "(no text read from this screen)";
  }

  function mark(el, text, query) {
    const k = query ? text.toLowerCase().indexOf(query) : -1;
    if (k < 0) { el.textContent = text; return; }
    const m = document.createElement("mark");
    m.textContent = text.slice(k, k + query.length);
    el.append(text.slice(0, k), m, text.slice(k + query.length));
  }

  function showHeard(t) {
    const list = $("heard");
    list.replaceChildren();
    for (const h of heard) {
      if (Math.abs(h.t - t) > HEARD_AROUND_MS) continue;
      const li = document.createElement("li");
      li.textContent = `${clock(h.t)} ${h.source}: ${h.text}`;
      if (Math.abs(h.t - t) <= HEARD_NOW_MS) li.className = "now";
      list.appendChild(li);
    }
    if (!list.children.length) list.textContent = "(nothing heard within a minute)";
  }

  function gapBefore(k) {
    const from = k > 0 ? times[k - 1] : t0;
    return gaps.filter((g) => g.t1 > from && g.t0 < times[k]).map((g) => g.label).join(" ");
  }

  function show(k) {
    at = Math.max(0, Math.min(frames.length - 1, k));
    const f = frames[at];
    const shot = f.i >= 0 ? document.getElementById("shot-" + f.i) : null;
    $("shot").hidden = !shot;
    $("noshot").hidden = !!shot;
    if (shot) $("shot").src = shot.textContent.trim();
    $("time").textContent = `${day(times[at])} ${clock(times[at])}`;
    $("app").textContent = f.a + (f.m > 1 ? ` (monitor ${f.m})` : "");
    $("window").textContent = f.w;
    $("gap").textContent = gapBefore(at);
    showSeen(f, find.value.trim().toLowerCase());
    showHeard(times[at]);
    $("cursor").style.left = left(times[at]);
    $("pos").textContent = `frame ${at + 1} of ${frames.length}`;
    document.title = `lifelog replay · frame ${at + 1} of ${frames.length} · ${clock(times[at])}`;
  }

  function byTime(t) { // the last frame at or before t, else the first
    let k = 0;
    while (k + 1 < times.length && times[k + 1] <= t) k++;
    return k;
  }

  function nearest(t) {
    let best = 0;
    times.forEach((x, k) => { if (Math.abs(x - t) < Math.abs(times[best] - t)) best = k; });
    return best;
  }

  function findNext() {
    const query = find.value.trim().toLowerCase();
    if (!query) return;
    for (let step = 1; step <= frames.length; step++) {
      const k = (at + step) % frames.length;
      if (lower[k].includes(query)) {
        $("found").textContent = "";
        show(k);
        return;
      }
    }
    $("found").textContent = `No frame shows “${find.value.trim()}”.`;
  }

  document.addEventListener("keydown", (e) => {
    if (e.target === find) {
      if (e.key === "Enter") { e.preventDefault(); findNext(); }
      else if (e.key === "Escape") find.blur();
      return;
    }
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const moves = {
      ArrowLeft: () => show(at - 1),
      ArrowRight: () => show(at + 1),
      ArrowUp: () => show(Math.min(at - 1, byTime(times[at] - 60000))),
      ArrowDown: () => show(Math.max(at + 1, byTime(times[at] + 60000))),
      "/": () => { find.focus(); find.select(); },
      Enter: findNext,
    };
    if (moves[e.key]) { e.preventDefault(); moves[e.key](); }
  });
  bar.addEventListener("click", (e) => {
    const r = bar.getBoundingClientRect();
    show(nearest(t0 + ((e.clientX - r.left) / r.width) * (t1 - t0)));
  });

  $("range").textContent = `${day(t0)} ${clock(t0)} – ${clock(t1)} · ${frames.length} frames`;
  $("note").textContent = data.note;
  drawBar();
  show(0);
})();

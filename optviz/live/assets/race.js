// The live race: the race chart and the error chart (Plotly), a slider per hyperparameter, and
// the player, all in the browser. Python (optviz/dashboard/payload.py) sends, per optimizer, a
// block of numbers for its current hyperparameters and one for every other position of each
// live slider; moving a slider swaps blocks here and redraws in place (Plotly.react), without a
// round trip to the server. Slider values go back to Python (setStateValue "sliders") when a
// move ends, so that the table, the export and the session state follow; the address bar holds
// the race on screen at once (history.replaceState with the link Python encoded for each slider
// position, see linkQuery).
//
// One source for every host: the dashboard (Streamlit), the single HTML file and the notebook
// widget each add a thin adapter from assets/hosts/ that calls mountRace (at the end); the app
// object lives on the parent element and updates in place when the host has new data.

const SEND_DELAY_MS = 400; // a slider's value goes to Python this long after its last change
const SYNC_DELAY_MS = 250; // a full Plotly redraw this long after a slider rests
// A race plays in PLAY_S seconds per 100 rows (5 to 9 s), "Slow" three times slower; markers glide
// between the shown rows, so every screen refresh shows a new picture. Playback time is warped:
// the step shown at a share u of the playing time is (steps + 1)^u - 1, so frames are evenly
// spaced in log(1 + step) and the first ten steps, where most happens, get as much screen time
// as the next ninety (see warpedStep).
const PLAY_S = { perRow: 0.06, min: 5, max: 9, slow: 3 };
const TRAIL_BYTES = 96 * 2 ** 20; // the playing race's trail layers (one canvas per optimizer) at most

// The step (fractional) shown at a share u in [0, 1] of the playing time, and its inverse.
function warpedStep(u, steps) { return Math.pow(steps + 1, u) - 1; }
function warpShare(step, steps) { return steps > 0 ? Math.log(step + 1) / Math.log(steps + 1) : 1; }

// The row index (fractional) of a step: rows hold increasing steps (every step when the scene is
// small enough; see optviz/dashboard/views/race.py frame_rows).
function rowOf(rows, step) {
  if (step <= rows[0]) return 0;
  const R = rows.length;
  if (step >= rows[R - 1]) return R - 1;
  let lo = 0, hi = R - 1;
  while (hi - lo > 1) { const m = (lo + hi) >> 1; if (rows[m] <= step) lo = m; else hi = m; }
  return lo + (step - rows[lo]) / (rows[hi] - rows[lo]);
}

window.__optvizTimes = window.__optvizTimes || {};

function whenPlotly(timeoutMs = 60000) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const poll = () => {
      if (window.Plotly && window.Plotly.react) {
        if (!window.__optvizTimes.plotly) window.__optvizTimes.plotly = performance.now();
        return resolve(window.Plotly);
      }
      if (performance.now() - t0 > timeoutMs) return reject(new Error("Plotly did not load"));
      setTimeout(poll, 15);
    };
    poll();
  });
}

// A block's numbers as an ArrayBuffer of its own: base64 text (JSON hosts: the dashboard, the web
// page) or binary (a notebook widget's buffers arrive as a DataView).
function bytes(b64) {
  if (typeof b64 !== "string") {
    const v = ArrayBuffer.isView(b64) ? new Uint8Array(b64.buffer, b64.byteOffset, b64.byteLength) : new Uint8Array(b64);
    return v.slice().buffer;
  }
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out.buffer;
}

// Plotly's SVG group of each trace of a chart, by trace index.
function traceGroups(gd) {
  const out = {};
  for (const g of gd.querySelectorAll(".scatterlayer .trace")) {
    const cd = g.__data__;
    if (cd && cd[0] && cd[0].trace) out[cd[0].trace.index] = g;
  }
  return out;
}

// An SVG path through the points (x[i], y[i]) in pixels of the axes, a new subpath after each gap.
function pathD(xs, ys, xa, ya, close) {
  let d = "", pen = false;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i], y = ys[i];
    if (!isFinite(x) || !isFinite(y) || (ya.type === "log" && y <= 0)) { pen = false; continue; }
    d += (pen ? "L" : "M") + xa.c2p(x).toFixed(1) + "," + ya.c2p(y).toFixed(1);
    pen = true;
  }
  return close && d ? d + "Z" : d;
}

// Put one path's `d` into a trace group (the first path of its kind; Plotly's other segments go).
function setPath(g, cls, d) {
  if (!g) return false;
  const paths = g.querySelectorAll("path." + cls);
  if (!paths.length) return false;
  paths[0].setAttribute("d", d);
  for (let i = 1; i < paths.length; i++) paths[i].remove();
  return true;
}

// The outline of each marker shape of optviz.draw.style.SYMBOLS as polygon vertices around
// (0, 0) for a radius of 1 (y down); a circle has none.
function polygon(n, r, turn) {
  const out = [];
  for (let k = 0; k < n; k++) {
    const a = turn + (2 * Math.PI * k) / n;
    out.push([r * Math.cos(a), r * Math.sin(a)]);
  }
  return out;
}
const SHAPES = {
  square: [[-1, -1], [1, -1], [1, 1], [-1, 1]],
  diamond: [[0, -1.3], [1.3, 0], [0, 1.3], [-1.3, 0]],
  "triangle-up": [[0, -1.25], [1.15, 0.8], [-1.15, 0.8]],
  "triangle-down": [[0, 1.25], [1.15, -0.8], [-1.15, -0.8]],
  pentagon: polygon(5, 1.15, -Math.PI / 2),
  hexagon: polygon(6, 1.1, 0),
  cross: [[-0.4, -1.1], [0.4, -1.1], [0.4, -0.4], [1.1, -0.4], [1.1, 0.4], [0.4, 0.4], [0.4, 1.1], [-0.4, 1.1],
          [-0.4, 0.4], [-1.1, 0.4], [-1.1, -0.4], [-0.4, -0.4]],
};

// A line dash of optviz.draw.style.DASHES as an SVG/canvas dash array for a line `w` px wide
// (Plotly's own lengths for its named dashes; "Apx,Bpx,..." as written).
function dashArray(dash, w) {
  const u = Math.max(w, 3);
  const named = { solid: [], dot: [u, u], dash: [3 * u, 3 * u], longdash: [5 * u, 5 * u],
                  dashdot: [3 * u, u, u, u], longdashdot: [5 * u, 2 * u, u, 2 * u] };
  if (!dash || named[dash]) return named[dash || "solid"];
  return String(dash).split(",").map((t) => parseFloat(t)).filter((v) => isFinite(v) && v >= 0);
}

// A marker like Plotly's (a shape of SHAPES, a circle, or the diverged cross "x") with a white
// edge, centred at (x, y).
function drawMark(ctx, x, y, symbol, size, color) {
  const r = size / 2;
  ctx.beginPath();
  if (symbol === "x") {
    const q = r * 0.9;
    ctx.moveTo(x - q, y - q); ctx.lineTo(x + q, y + q); ctx.moveTo(x + q, y - q); ctx.lineTo(x - q, y + q);
    ctx.lineWidth = 4; ctx.strokeStyle = "white"; ctx.stroke();
    ctx.lineWidth = 2; ctx.strokeStyle = color; ctx.stroke();
    return;
  }
  const pts = SHAPES[symbol];
  if (pts) {
    pts.forEach(([px, py], i) => (i ? ctx.lineTo(x + r * px, y + r * py) : ctx.moveTo(x + r * px, y + r * py)));
    ctx.closePath();
  } else ctx.arc(x, y, r, 0, 2 * Math.PI);
  ctx.fillStyle = color;
  ctx.fill();
  ctx.lineWidth = 1;
  ctx.strokeStyle = "white";
  ctx.stroke();
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children) if (c) e.append(c);
  return e;
}

function fmtNum(v) {
  if (v === null || v === undefined || !isFinite(v)) return "—";
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) return v.toExponential(1).replace("e+", "e");
  return String(+v.toPrecision(3));
}

// Decode a block once: positions (NaN outside), dead rows, error quantiles, paths and crosses.
// The error axis when errors take both signs (a loss below zero: saddles, unbounded functions): a
// signed logarithm, sign(e)·log10(1 + |e|/c), linear within ±c, so that a fall to −5·10⁴ does not
// flatten the first steps. The page draws these values and labels the ticks with the real ones.
function symlog(e, c) { return Math.sign(e) * Math.log10(1 + Math.abs(e) / c); }
function symlogInv(u, c) { return Math.sign(u) * c * (Math.pow(10, Math.abs(u)) - 1); }
function symlogTicks(lo, hi, c) {
  const top = Math.max(Math.abs(lo), Math.abs(hi)) + 0.5;
  let n = 0;
  while (n < 40 && symlog(c * Math.pow(10, n + 1), c) <= top) n++;
  const stride = Math.max(1, Math.ceil((n + 1) / 5));  // at most about five labels a side
  const vals = [0], text = ["0"];
  for (let k = 0; k <= n; k += stride) {
    const v = c * Math.pow(10, k), u = symlog(v, c);
    if (u <= hi + 0.5) { vals.push(u); text.push(fmtNum(v)); }
    if (-u >= lo - 0.5) { vals.push(-u); text.push(fmtNum(-v)); }
  }
  return { tickmode: "array", tickvals: vals, ticktext: text };
}

function decode(block, data, lane) {
  if (block._dec) return block._dec;
  const R = data.rows.length, n = data.n, q = data.quant;
  const raw = new Uint16Array(bytes(block.pos));
  const pos = new Float32Array(raw.length);
  const sx = (q.hi[0] - q.lo[0]) / (q.outside - 1), sy = (q.hi[1] - q.lo[1]) / (q.outside - 1);
  for (let i = 0; i < raw.length; i += 2) {
    const a = raw[i], b = raw[i + 1];
    const out = a === q.outside || b === q.outside;
    pos[i] = out ? NaN : q.lo[0] + a * sx;
    pos[i + 1] = out ? NaN : q.lo[1] + b * sy;
  }
  const dead = new Int16Array(bytes(block.dead));
  const err = new Float32Array(bytes(block.err));
  if (data.symlog) for (let i = 0; i < err.length; i++) err[i] = symlog(err[i], data.symlog);
  const view = data.view;
  const m = 0.02;
  const inView = (x, y) => {
    const wx = view[0][1] - view[0][0], wy = view[1][1] - view[1][0];
    return x >= view[0][0] - m * wx && x <= view[0][1] + m * wx && y >= view[1][0] - m * wy && y <= view[1][1] + m * wy;
  };
  // paths: 2-D in the plane; 1-D along the optimizer's lane. A diverged point's path stops where
  // it first leaves the view; a NaN between points.
  const px = [], py = [];
  const cross = [];
  for (let j = 0; j < n; j++) {
    const dj = dead[j];
    let lastSeen = -1;
    for (let r = 0; r < R; r++) {
      if (dj >= 0 && r >= dj) break;
      const x = pos[(r * n + j) * 2], y = pos[(r * n + j) * 2 + 1];
      const seen = isFinite(x) && isFinite(y) && inView(x, y);
      if (dj >= 0 && !seen) break;
      if (seen) lastSeen = r;
      px.push(x);
      py.push(data.dim === 1 ? lane : y);
    }
    px.push(NaN);
    py.push(NaN);
    if (dj >= 0) {
      let x, y;
      if (lastSeen >= 0) {
        x = pos[(lastSeen * n + j) * 2];
        y = pos[(lastSeen * n + j) * 2 + 1];
      } else {
        x = Math.min(Math.max(pos[j * 2] || view[0][0], view[0][0]), view[0][1]);
        y = Math.min(Math.max(pos[j * 2 + 1] || view[1][0], view[1][0]), view[1][1]);
      }
      cross.push({ j, row: dj, x, y, step: block.dsteps ? block.dsteps[j] : data.rows[dj] });
    }
  }
  block._dec = { pos, dead, err, px, py, cross, R, n };
  return block._dec;
}

class RaceApp {
  constructor(parent) {
    this.parent = parent;
    this.data = null;
    this.frame = 0;
    this.playing = false;
    this.local = {}; // optimizer -> hp -> slider index shown here
    this.pending = {}; // optimizer -> hp -> {value, seq}: sent (or to send), not yet applied in Python
    this.hidden = new Set(); // optimizers hidden by a click on their name
    this.shown = {}; // optimizer -> the block drawn now
    this.seq = 0;
    this.stats = { latencies: [], frames: 0, playStart: 0, renders: 0 };
    this.hooks = {};
    this.build();
    this._tick = (ts) => this.tick(ts);
    this._resize = () => this.layout(true);
    window.addEventListener("resize", this._resize);
    // the page's width changes when the sidebar arrives or is collapsed
    this._observer = new ResizeObserver(() => {
      if (this.root.clientWidth !== this.lastWidth) { this.lastWidth = this.root.clientWidth; this.layout(true); }
    });
    this._observer.observe(this.root);
  }

  // What the host does with the page's messages (see mountRace). Without setTriggerValue the race
  // stands alone (a web page): no server places starts or answers the sliders not computed ahead.
  setHooks(setStateValue, setTriggerValue) {
    this.hooks = { setStateValue, setTriggerValue };
    this.standalone = !setTriggerValue;
    this.root.classList.toggle("ov-standalone", this.standalone);
  }

  destroy() {
    this.destroyed = true;
    this.playing = false;
    window.removeEventListener("resize", this._resize);
    document.removeEventListener("keydown", this._keydown);
    this._observer.disconnect();
    clearTimeout(this.sendTimer);
    if (window.Plotly) {
      try { window.Plotly.purge(this.raceDiv); window.Plotly.purge(this.errDiv); } catch (e) { /* gone */ }
    }
  }

  // ------------------------------------------------------------------ DOM
  build() {
    const p = this.parent;
    this.root = el("div", { class: "ov-root", "data-testid": "optviz-race" });
    this.playBtn = el("button", { class: "ov-btn", type: "button", text: "▶ Play", title: "Play the race" });
    this.slowBtn = el("button", { class: "ov-btn", type: "button", text: "▶ Slow", title: "Play slowly" });
    this.pauseBtn = el("button", { class: "ov-btn", type: "button", text: "❚❚ Pause", title: "Pause" });
    this.backBtn = el("button", { class: "ov-btn ov-stepbtn", type: "button", text: "◀",
                                  title: "One step back (← key)", "aria-label": "one step back" });
    this.fwdBtn = el("button", { class: "ov-btn ov-stepbtn", type: "button", text: "▶",
                                 title: "One step forward (→ key)", "aria-label": "one step forward" });
    this.stepInput = el("input", { class: "ov-step", type: "range", min: "0", max: "0", step: "1", value: "0",
                                   "aria-label": "step of the race" });
    // the step counter, on the chart's corner: large enough for the back row
    this.stepText = el("span", { class: "ov-steptext", "aria-live": "off", "data-testid": "optviz-step" });
    this.bar = el("div", { class: "ov-bar" }, this.playBtn, this.slowBtn, this.pauseBtn, this.backBtn, this.fwdBtn,
                  this.stepInput);
    this.raceDiv = el("div", { class: "ov-race", "data-testid": "optviz-race-chart" });
    this.errDiv = el("div", { class: "ov-err", "data-testid": "optviz-error-chart" });
    // While the race plays, the moving markers are drawn on a canvas over the chart (its own
    // layer: the chart's SVG is not repainted at every frame); Plotly draws them again at rest.
    this.overlay = el("canvas", { class: "ov-overlay", "aria-hidden": "true" });
    this.errOverlay = el("canvas", { class: "ov-overlay", "aria-hidden": "true" });
    this.panel = el("div", { class: "ov-panel", role: "group", "aria-label": "hyperparameters" });
    this.hint = el("div", { class: "ov-hint" });
    this.clearBtn = el("button", { class: "ov-btn", type: "button", text: "Clear starts",
                                   title: "Remove every start; then click the chart to place new ones" });
    this.gridBtn = el("button", { class: "ov-btn", type: "button", text: "Back to the grid",
                                  title: "Race from the N×N grid of starts again" });
    this.foot = el("div", { class: "ov-foot" }, this.clearBtn, this.gridBtn, this.hint);
    this.left = el("div", { class: "ov-left" }, this.bar, el("div", { class: "ov-wrap" }, this.raceDiv, this.overlay, this.stepText),
                   this.foot);
    this.side = el("div", { class: "ov-side" }, el("div", { class: "ov-wrap" }, this.errDiv, this.errOverlay),
                   this.panel);
    this.grid = el("div", { class: "ov-grid" }, this.left, this.side);
    this.root.append(this.grid);
    p.append(this.root);
    this.playBtn.onclick = () => this.play(false);
    this.slowBtn.onclick = () => this.play(true);
    this.pauseBtn.onclick = () => { this.takeOver(); this.pause(); };
    this.backBtn.onclick = () => this.stepBy(-1);
    this.fwdBtn.onclick = () => this.stepBy(1);
    // ← and → anywhere on the page (but in a text field or on another slider) move one recorded step
    this._keydown = (ev) => {
      if (ev.key !== "ArrowLeft" && ev.key !== "ArrowRight") return;
      if (ev.altKey || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.defaultPrevented) return;
      const t = ev.target;
      if (t && t !== document.body && t !== this.root && !this.bar.contains(t) && !this.raceDiv.contains(t)) {
        const tag = (t.tagName || "").toLowerCase();
        if (tag === "input" || tag === "textarea" || tag === "select" || t.isContentEditable
            || (t.getAttribute && ["slider", "tab", "radio", "spinbutton", "combobox", "textbox", "listbox", "option"]
              .includes(t.getAttribute("role")))) return;
      }
      if (t === this.stepInput) return; // the step slider moves itself by one row
      ev.preventDefault();
      this.stepBy(ev.key === "ArrowRight" ? 1 : -1);
    };
    document.addEventListener("keydown", this._keydown);
    this.stepInput.addEventListener("input", () => { this.takeOver(); this.pause(); this.setFrame(+this.stepInput.value); });
    this.stepInput.addEventListener("change", () => this.sync());
    this.raceDiv.addEventListener("click", (ev) => this.onChartClick(ev));
    this.raceDiv.addEventListener("pointerdown", (ev) => this.onPointerDown(ev), true);
    this.clearBtn.onclick = () => this.clearStarts();
    this.gridBtn.onclick = () => {
      this.send();
      if (this.hooks.setTriggerValue) this.hooks.setTriggerValue("grid", true);
    };
  }

  layout(redraw = false) {
    const d = this.data;
    if (!d) return;
    const width = Math.max(320, this.root.clientWidth || 800);
    const rect = this.root.getBoundingClientRect();
    let scroller = this.root.parentElement;
    while (scroller && scroller !== document.body && !/(auto|scroll)/.test(getComputedStyle(scroller).overflowY)) {
      scroller = scroller.parentElement;
    }
    const top = rect.top + (scroller && scroller.scrollTop ? scroller.scrollTop : 0);
    const avail = Math.max(d.large ? 440 : 480, window.innerHeight - top - 12);
    const barH = this.bar.offsetHeight || (d.large ? 44 : 36);
    const hintH = this.foot.offsetHeight || 24;
    let raceW, raceH, errW, errH, panelH, wide;
    if (width >= 760) {
      wide = true;
      raceH = Math.max(300, avail - barH - hintH - 6);
      raceW = Math.min(Math.round(width * 0.64), Math.round(raceH * (d.dim === 2 ? 1.12 : 1.5)));
      errW = width - raceW - 14;
      errH = Math.round(Math.max(220, Math.min(avail * 0.5, errW * 0.95)));
      panelH = avail - errH - 6;
    } else {
      wide = false;
      raceW = width;
      raceH = Math.min(Math.round(width * 0.9), avail - barH - hintH);
      errW = width;
      errH = Math.round(Math.min(360, width * 0.6));
      panelH = null;
    }
    this.grid.classList.toggle("ov-wide", wide);
    this.left.style.width = raceW + "px";
    this.side.style.width = errW + "px";
    this.panel.style.maxHeight = panelH ? panelH + "px" : "none";
    const changed = this.size === undefined || this.size.raceW !== raceW || this.size.raceH !== raceH ||
      this.size.errW !== errW || this.size.errH !== errH;
    this.size = { raceW, raceH, errW, errH };
    if (redraw && changed) this.render();
  }

  // ------------------------------------------------------------------ data in
  update(data) {
    if (!window.__optvizTimes.data) window.__optvizTimes.data = performance.now();
    const first = !this.data;
    const newScene = first || data.scene !== this.data.scene;
    // Python replaced the hyperparameters as a whole (a lesson, a link, Reset, Tune): no change
    // made here before that is still to be sent or kept
    const newValues = newScene || data.gen !== this.data.gen;
    this.data = data;
    this.root.classList.toggle("ov-large", !!data.large);
    this.byName = {};
    for (const o of data.optimizers) this.byName[o.name] = o;
    // slider positions: Python's, unless a newer local change is still on its way
    for (const o of data.optimizers) {
      const loc = (this.local[o.name] = this.local[o.name] || {});
      const pend = (this.pending[o.name] = this.pending[o.name] || {});
      for (const s of o.sliders) {
        const p = pend[s.hp];
        if (p && p.seq <= data.ack) delete pend[s.hp];
        if (newValues || !pend[s.hp]) loc[s.hp] = s.index;
      }
    }
    if (newValues) {
      clearTimeout(this.sendTimer);
      this.pending = {};
      for (const o of data.optimizers) this.pending[o.name] = {};
    }
    if (newScene) {
      // A new page, lesson, link or start opens at step 0 and plays once. The page may mount
      // the race anew for the same scene (the first run draws the race alone, then the whole
      // page comes): the play then goes on where it was, and a scene played (or taken over by
      // the user) is not played again.
      const g = window.__optvizPlay;
      this.frac = 0;
      this.playing = false;
      this.overlayOn = false;
      this.shown = {};
      if (g && g.scene === data.scene && g.done) {
        this.frame = Math.min(g.frame, data.rows.length - 1);
        this.autoplay = null;
      } else {
        this.frame = g && g.scene === data.scene ? Math.min(g.frame, data.rows.length - 1) : 0;
        if (!g || g.scene !== data.scene) window.__optvizPlay = { scene: data.scene, frame: 0, done: false };
        this.autoplay = data.scene;
        this.root.dataset.played = "0";
      }
    }
    for (const name of [...this.hidden]) if (!this.byName[name]) this.hidden.delete(name);
    this.stepInput.max = String(data.rows.length - 1);
    const sig = this.panelSig;
    this.buildPanel();
    // A rerun that only confirms what is on screen (a slider's value reached Python and its
    // block is the one shown) needs no redraw: keep the decoded numbers and the drawing.
    const same = !newScene && sig === this.panelSig && this.decs && data.optimizers.every((o) => {
      const old = this.shown[o.name];
      const { block, stale } = this.blockFor(o);
      if (stale || !old || block.pos !== old.pos || block.err !== old.err || block.dead !== old.dead) return false;
      if (block !== old) { block._dec = old._dec; this.shown[o.name] = block; }
      return true;
    });
    // The address bar: Python has written this scene's link before sending it; the page writes
    // its own only while a slider moved here has not reached Python yet. (A mount with data the
    // page already had must not write it back over a newer scene, such as a lesson on a
    // learning problem, which shows no race.)
    if (data.optimizers.some((o) => o.sliders.some((s) => this.local[o.name][s.hp] !== s.index))) this.showLink();
    if (same) {
      for (const o of data.optimizers) this.tracesFor(o, 0);
      return;
    }
    if (newScene) this.cleared = false;
    if (this.ghost) this.ghost.style.display = "none";
    this.gridBtn.style.display = data.starts_mode === "Grid" ? "none" : "";
    this.showHint();
    whenPlotly().then(() => {
      this.layout(false);
      return this.render();
    }).then(() => {
      if (this.autoplay === data.scene && this.data === data) {
        this.autoplay = null;
        requestAnimationFrame(() => this.play(false));
      }
      // once drawn: the sweeps behind the live sliders (and the rest of a first page) come next
      if (!data.sweeps && this.hooks.setTriggerValue && this.askedSweeps !== data.scene) {
        this.askedSweeps = data.scene;
        this.askSweeps(data.scene, 0);
      }
    }).catch((e) => {
      this.hint.textContent = "The chart library did not load: " + e.message;
      if (this.hooks.setTriggerValue) this.hooks.setTriggerValue("sweeps", data.scene); // the rest of the page
    });
  }

  // Ask Python for the sweeps of the scene drawn, and again (after 3, 6, 12, 24 s) while they have
  // not come: a trigger sent while a rerun was starting can be lost, and the page would never be
  // live (a computed sweep is cached: asking twice costs nothing more).
  askSweeps(key, tries) {
    requestAnimationFrame(() => this.hooks.setTriggerValue("sweeps", key));
    if (tries >= 4) return;
    setTimeout(() => {
      if (this.data && this.data.scene === key && !this.data.sweeps && !this.destroyed) this.askSweeps(key, tries + 1);
    }, 3000 * 2 ** tries);
  }

  // ------------------------------------------------------------------ sliders
  panelSignature() {
    return JSON.stringify(this.data.optimizers.map((o) => [o.name, o.sliders.map((s) => [s.hp, s.values.length])]));
  }

  buildPanel() {
    const d = this.data;
    const sig = this.panelSignature() + (d.large ? "L" : "");
    if (sig !== this.panelSig) {
      this.panelSig = sig;
      const open = new Set([...this.panel.querySelectorAll("details[open]")].map((e) => e.dataset.name));
      this.panel.textContent = "";
      this.cards = {};
      for (const o of d.optimizers) {
        const card = el("div", { class: "ov-card", "data-name": o.name });
        const sw = el("button", { class: "ov-swatch", type: "button", "aria-pressed": "true",
                                  title: "Show or hide " + o.name, "aria-label": "show " + o.name });
        sw.append(this.swatchSvg(o.look));
        const title = el("span", { class: "ov-name", text: o.name, title: o.summary });
        title.style.color = o.look.color;
        const stat = el("span", { class: "ov-stat" });
        const reset = el("button", { class: "ov-reset", type: "button", text: "Reset",
                                     title: "Back to the defaults for this function" });
        reset.onclick = () => this.hooks.setTriggerValue && this.hooks.setTriggerValue("reset", o.name);
        sw.onclick = () => {
          if (this.hidden.has(o.name)) this.hidden.delete(o.name); else this.hidden.add(o.name);
          this.render();
        };
        const head = el("div", { class: "ov-head" }, sw, title, stat, reset);
        card.append(head);
        const rows = {};
        const main = o.sliders.filter((s) => s.lr);
        const more = o.sliders.filter((s) => !s.lr);
        for (const s of main) card.append(this.sliderRow(o, s, rows));
        if (more.length) {
          const det = el("details", { class: "ov-more", "data-name": o.name });
          if (open.has(o.name)) det.open = true;
          det.append(el("summary", { text: more.map((s) => s.hp).join(", ") }));
          for (const s of more) det.append(this.sliderRow(o, s, rows));
          card.append(det);
        }
        this.panel.append(card);
        this.cards[o.name] = { card, stat, sw, rows };
      }
    }
    for (const o of d.optimizers) {
      const c = this.cards[o.name];
      c.sw.setAttribute("aria-pressed", this.hidden.has(o.name) ? "false" : "true");
      c.card.classList.toggle("ov-off", this.hidden.has(o.name));
      for (const s of o.sliders) this.showSlider(o, s);
    }
  }

  swatchSvg(look) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 28 14");
    svg.setAttribute("aria-hidden", "true");
    const line = document.createElementNS(ns, "line");
    line.setAttribute("x1", "1"); line.setAttribute("x2", "27"); line.setAttribute("y1", "7"); line.setAttribute("y2", "7");
    line.setAttribute("stroke", look.color); line.setAttribute("stroke-width", "2.5");
    const da = dashArray(look.dash, 2.5).map((v) => v * 0.6);
    if (da.length) line.setAttribute("stroke-dasharray", da.join(" "));
    svg.append(line);
    let shape;
    const pts = SHAPES[look.symbol];
    if (pts) {
      shape = document.createElementNS(ns, "polygon");
      shape.setAttribute("points", pts.map(([px, py]) => (14 + 5 * px).toFixed(2) + "," + (7 + 5 * py).toFixed(2)).join(" "));
    } else {
      shape = document.createElementNS(ns, "circle");
      shape.setAttribute("cx", "14"); shape.setAttribute("cy", "7"); shape.setAttribute("r", "5");
    }
    shape.setAttribute("fill", look.color);
    shape.setAttribute("stroke", "white");
    svg.append(shape);
    return svg;
  }

  sliderRow(o, s, rows) {
    const id = "ov-" + o.name + "-" + s.hp;
    const input = el("input", { type: "range", id, min: "0", max: String(s.values.length - 1), step: "1",
                                value: String(s.index), "aria-label": o.name + " " + s.label, title: s.help });
    const label = el("label", { for: id, text: s.lr ? s.hp : s.hp, title: s.label + ". " + s.help });
    const out = el("output", { for: id });
    const row = el("div", { class: "ov-slider" + (s.live ? "" : " ov-server") }, label, input, out);
    input.addEventListener("input", (ev) => this.onSlider(o.name, s.hp, +input.value, ev));
    input.addEventListener("change", () => this.queueSend(o.name, s.hp));
    input.addEventListener("input", () => this.showLink());
    rows[s.hp] = { input, out, row };
    return row;
  }

  showSlider(o, s) {
    const r = this.cards[o.name].rows[s.hp];
    const i = this.local[o.name][s.hp];
    r.input.value = String(i);
    r.input.setAttribute("aria-valuetext", s.text[i]);
    r.out.textContent = s.text[i];
    r.row.classList.toggle("ov-server", !s.live);
    r.input.disabled = !s.live && !!this.standalone;
  }

  onSlider(name, hp, index, ev) {
    const t0 = ev && ev.timeStamp ? ev.timeStamp : performance.now();
    this.local[name][hp] = index;
    const o = this.byName[name];
    const s = o.sliders.find((x) => x.hp === hp);
    this.showSlider(o, s);
    const done = () => requestAnimationFrame(() => {
      const ms = performance.now() - t0;
      this.stats.latencies.push(ms);
      this.root.dataset.latency = String(Math.round(ms));
    });
    if (this.fastUpdate(name)) {
      done();
      clearTimeout(this.syncTimer);
      this.syncTimer = setTimeout(() => this.render(), SYNC_DELAY_MS);
    } else {
      this.render().then(done);
    }
  }

  // Redraw one optimizer after a slider move by rewriting its SVG paths and markers in place
  // (a few milliseconds); a full Plotly redraw follows when the slider rests (SYNC_DELAY_MS).
  // Returns false when the charts are not ready for it (then the caller redraws fully).
  fastUpdate(name) {
    const d = this.data;
    const k = d.optimizers.findIndex((o) => o.name === name);
    const fl = this.raceDiv._fullLayout, efl = this.errDiv._fullLayout;
    if (k < 0 || !fl || !efl || !this.raceGroups || this.hidden.has(name)) return false;
    const o = d.optimizers[k];
    const t = this.tracesFor(o, k);
    this.decs[name] = t.dec;
    const pathIdx = d.race.data.length + k;
    const ya = d.dim === 1 ? fl.yaxis2 : fl.yaxis;
    if (!setPath(this.raceGroups[pathIdx], "js-line", pathD(t.dec.px, t.dec.py, fl.xaxis, ya))) return false;
    this.applyFrame();
    const R = d.rows.length, err = t.dec.err;
    const groups = traceGroups(this.errDiv);
    const bandIdx = d.n > 1 ? k : null, medIdx = (d.n > 1 ? d.optimizers.length : 0) + k;
    setPath(groups[medIdx], "js-line", pathD(d.rows, err.subarray(R, 2 * R), efl.xaxis, efl.yaxis));
    if (bandIdx !== null) {
      const bx = [], by = [];
      for (let r = 0; r < R; r++) if (isFinite(err[r]) && isFinite(err[2 * R + r])) { bx.push(d.rows[r]); by.push(err[2 * R + r]); }
      for (let r = R - 1; r >= 0; r--) if (isFinite(err[r]) && isFinite(err[2 * R + r])) { bx.push(d.rows[r]); by.push(err[r]); }
      setPath(groups[bandIdx], "js-fill", pathD(bx, by, efl.xaxis, efl.yaxis, true));
    }
    this.synced = false;
    return true;
  }

  queueSend(name, hp) {
    const o = this.byName[name];
    const s = o.sliders.find((x) => x.hp === hp);
    this.seq = Math.max(this.seq, this.data.ack) + 1;
    this.pending[name][hp] = { value: s.values[this.local[name][hp]], seq: this.seq };
    clearTimeout(this.sendTimer);
    this.sendTimer = setTimeout(() => this.send(), SEND_DELAY_MS);
  }

  send() {
    clearTimeout(this.sendTimer);
    const values = {};
    let seq = 0;
    for (const [name, hps] of Object.entries(this.pending)) {
      for (const [hp, p] of Object.entries(hps)) {
        (values[name] = values[name] || {})[hp] = p.value;
        seq = Math.max(seq, p.seq);
      }
    }
    if (seq && this.hooks.setStateValue) this.hooks.setStateValue("sliders", { seq, gen: this.data.gen, values });
  }

  // The scene on screen as the URL's query (Python's encoding: data.link holds the query of the
  // scene Python ran, and each slider's `url` the text of its hyperparameter at each position,
  // empty where the link leaves it out); null when the page has no link to give.
  linkQuery() {
    const d = this.data, link = d && d.link;
    if (!link) return null;
    const items = [];
    for (const o of d.optimizers) {
      const parts = [];
      for (const s of o.sliders) {
        const t = s.url && s.url[this.local[o.name][s.hp]];
        if (t) parts.push(t);
      }
      if (!link.group || parts.length) items.push(parts.length ? o.name + ":" + parts.join(",") : o.name);
    }
    const query = Object.assign({}, link.query);
    query.opt = (link.group ? [link.group, ...items] : items).join(";");
    return query;
  }

  // The address bar: a link to the race on screen, at once (Python writes the same when the
  // values reach it).
  showLink() {
    const query = this.linkQuery();
    if (!query) return;
    try {
      const url = new URL(window.location.href);
      const search = "?" + new URLSearchParams(query).toString();
      if (url.search === search) return;
      url.search = search;
      window.history.replaceState(window.history.state, "", url.toString());
    } catch (e) { /* a sandboxed frame: the server writes the address */ }
  }

  // Which block shows an optimizer now: its base block when every slider stands where Python
  // has it; a swept block when exactly one live slider moved; else the last one (updating).
  blockFor(o) {
    const moved = o.sliders.filter((s) => this.local[o.name][s.hp] !== s.index);
    if (moved.length === 0) return { block: o.base, stale: false };
    if (moved.length === 1 && moved[0].live) {
      const k = o.sliders.indexOf(moved[0]);
      const b = o.blocks[k] && o.blocks[k][this.local[o.name][moved[0].hp]];
      if (b) return { block: b, stale: false };
    }
    return { block: this.shown[o.name] || o.base, stale: true };
  }

  // ------------------------------------------------------------------ drawing
  tracesFor(o, lane) {
    const d = this.data;
    const { block, stale } = this.blockFor(o);
    this.shown[o.name] = block;
    const dec = decode(block, d, lane);
    const c = this.cards && this.cards[o.name];
    if (c) {
      c.card.classList.toggle("ov-stale", stale);
      const bits = [];
      if (block.conv !== null && block.conv !== undefined) bits.push(Math.round(block.conv * d.n) + "/" + d.n + " within tol");
      else if (block.med !== null) bits.push("median " + d.kind_short + " " + fmtNum(block.med));
      if (block.div) bits.push(block.div + " diverged");
      c.stat.textContent = (stale ? "updating… " : "") + bits.join(" · ");
    }
    const vis = this.hidden.has(o.name) ? false : true;
    const path = Object.assign({}, o.look.path, { x: dec.px, y: dec.py, visible: vis });
    if (d.dim === 1) path.yaxis = "y2";
    return { dec, path, vis };
  }

  // Where each point of a block is at a frame, and whether it shows: not at step 0 (the start
  // rings show the starts), not once it has diverged, not outside the drawn range. Hidden points
  // keep a finite position (their last one) so that every point has its element in the chart.
  frameState(dec, frame, frac = 0) {
    const n = dec.n, R = dec.R;
    const x = new Array(n), y = new Array(n), vis = new Array(n);
    for (let j = 0; j < n; j++) {
      let r = frame;
      if (dec.dead[j] >= 0 && r >= dec.dead[j]) r = Math.max(0, dec.dead[j] - 1);
      let px = dec.pos[(r * n + j) * 2], py = dec.pos[(r * n + j) * 2 + 1];
      if (frac > 0 && r === frame && r + 1 < R && !(dec.dead[j] >= 0 && r + 1 >= dec.dead[j])) {
        const qx = dec.pos[((r + 1) * n + j) * 2], qy = dec.pos[((r + 1) * n + j) * 2 + 1];
        if (isFinite(qx) && isFinite(qy) && isFinite(px) && isFinite(py)) {
          px += frac * (qx - px);
          py += frac * (qy - py);
        }
      }
      const ok = isFinite(px) && isFinite(py);
      vis[j] = ok && frame > 0 && !(dec.dead[j] >= 0 && frame >= dec.dead[j]);
      if (!ok) {
        px = dec.pos[j * 2]; py = dec.pos[j * 2 + 1];
        if (!isFinite(px) || !isFinite(py)) { px = this.data.view[0][0]; py = this.data.view[1][0]; }
      }
      x[j] = px; y[j] = py;
    }
    return { x, y, vis };
  }

  // Every diverged point's cross (of the optimizers shown), with the row from which it shows.
  crosses() {
    const x = [], y = [], text = [], row = [];
    for (const o of this.data.optimizers) {
      if (this.hidden.has(o.name)) continue;
      for (const c of this.decs[o.name].cross) {
        x.push(c.x); y.push(c.y); row.push(c.row);
        text.push(o.name + ": start " + (c.j + 1) + " diverged by step " + c.step);
      }
    }
    return { x, y, text, row };
  }

  render() {
    const d = this.data;
    if (!d || !window.Plotly || !this.size) return Promise.resolve();
    const P = window.Plotly;
    this.decs = {};
    const paths = [], markers = [], lanes = [];
    d.optimizers.forEach((o, k) => {
      const t = this.tracesFor(o, k);
      this.decs[o.name] = t.dec;
      paths.push(t.path);
      // every point gets an element (a finite position); applyFrame() hides those not shown
      const f = this.frameState(t.dec, this.frame);
      markers.push(Object.assign({}, o.look.marker, { x: f.x, y: f.y, visible: t.vis, meta: "marker" }));
      if (d.dim === 1) {
        lanes.push(Object.assign({}, o.look.marker, { x: f.x, y: f.x.map(() => k), yaxis: "y2", visible: t.vis,
          meta: "lane", hoverinfo: "skip", hovertemplate: undefined }));
      }
    });
    const minima = d.race.above.filter((t) => t.meta === "minima");
    const starts = d.race.above.filter((t) => t.meta === "starts");
    this.cross = this.crosses();
    const cross = Object.assign({}, d.cross, { x: this.cross.x, y: this.cross.y, text: this.cross.text });
    let moving = [...paths, ...minima, ...markers, ...lanes, ...starts, cross];
    // after "Clear starts" the chart shows the landscape (and its minima) alone
    if (this.cleared) moving = moving.map((t) => (t.meta === "minima" ? t : Object.assign({}, t, { visible: false })));
    const traces = [...d.race.data, ...moving];
    this.markerIdx = [];
    traces.forEach((t, i) => { if (t.meta === "marker" || t.meta === "lane") this.markerIdx.push(i); });
    this.crossIdx = traces.length - 1;
    this.raceTraces = traces;
    const layout = Object.assign({}, d.race.layout, { width: this.size.raceW, height: this.size.raceH });
    const config = { displaylogo: false, responsive: false, scrollZoom: false, displayModeBar: "hover",
                     modeBarButtonsToRemove: ["zoom2d", "pan2d", "select2d", "lasso2d", "zoomIn2d", "zoomOut2d",
                                              "autoScale2d", "resetScale2d"],
                     toImageButtonOptions: { format: "png", scale: 2, filename: "optviz-race" } };
    this.stats.renders += 1;
    this.synced = true;
    clearTimeout(this.syncTimer);
    const a = P.react(this.raceDiv, traces, layout, config).then(() => this.bindPoints());
    // the very first time, the race shows before the error chart is built
    const b = this.errDrawn ? this.renderErrors(config)
      : new Promise((res) => setTimeout(() => { this.errDrawn = true; res(this.renderErrors(config)); }, 0));
    this.showColorbar();
    this.showFrameText();
    a.then(() => { if (!window.__optvizTimes.rendered) window.__optvizTimes.rendered = performance.now(); });
    return Promise.all([a, b]);
  }

  // The chart's marker elements, by trace and point, so that frames can move them directly.
  bindPoints() {
    this.pointEls = {};
    this.raceGroups = traceGroups(this.raceDiv);
    const trails = this.trailIdx();
    for (const [idx, g] of Object.entries(this.raceGroups)) {
      if (trails.includes(+idx) && this.overlayOn && this.playing) g.style.opacity = "0";
      if (!this.markerIdx.includes(+idx) && +idx !== this.crossIdx) continue;
      const els = [];
      for (const p of g.querySelectorAll("path.point")) if (p.__data__) els[p.__data__.i] = p;
      this.pointEls[idx] = els;
      if (this.overlayOn && this.playing) g.style.opacity = "0"; // still playing on the overlay
    }
    this.applyFrame();
  }

  showColorbar() {
    const cb = this.data.race.colorbar;
    if (!this.cbar) {
      this.cbar = el("div", { class: "ov-cbar", "aria-hidden": "true" });
      this.foot.append(this.cbar);
    }
    this.cbar.style.display = cb ? "" : "none";
    if (!cb) return;
    const key = JSON.stringify(cb);
    if (this.cbarKey === key) return;
    this.cbarKey = key;
    this.cbar.textContent = "";
    const grad = el("div", { class: "ov-cbar-grad" });
    grad.style.background = "linear-gradient(to right, " + cb.stops.map(([t, c]) => c + " " + 100 * t + "%").join(", ") + ")";
    const ticks = el("div", { class: "ov-cbar-ticks" });
    for (const [t, text] of cb.ticks) {
      const tk = el("span", { text });
      tk.style.left = 100 * t + "%";
      ticks.append(tk);
    }
    this.cbar.append(el("span", { class: "ov-cbar-label", text: cb.label }), el("div", { class: "ov-cbar-body" }, grad, ticks));
  }

  renderErrors(config) {
    const d = this.data;
    const P = window.Plotly;
    const x = d.rows;
    const R = x.length;
    const bands = [], medians = [];
    const sx = [], sy = [], stext = [];
    let lo = Infinity, hi = -Infinity;
    for (const o of d.optimizers) {
      const dec = this.decs[o.name];
      const vis = !this.hidden.has(o.name);
      const q25 = dec.err.subarray(0, R), q50 = dec.err.subarray(R, 2 * R), q75 = dec.err.subarray(2 * R, 3 * R);
      const med = Array.from(q50, (v) => (isFinite(v) ? v : NaN));
      if (d.n > 1) {
        const bx = [], by = [], back = [];
        for (let r = 0; r < R; r++) {
          if (isFinite(q25[r]) && isFinite(q75[r])) { bx.push(x[r]); by.push(q75[r]); back.push([x[r], q25[r]]); }
        }
        for (let i = back.length - 1; i >= 0; i--) { bx.push(back[i][0]); by.push(back[i][1]); }
        bands.push(Object.assign({}, o.look.band, { x: bx, y: by, visible: vis }));
      }
      const median = Object.assign({}, o.look.median, { x, y: med, visible: vis });
      if (d.symlog) {
        median.text = med.map((u) => (isFinite(u) ? fmtNum(symlogInv(u, d.symlog)) : ""));
        median.hovertemplate = String(median.hovertemplate || "").replace("%{y:.3g}", "%{text}");
      }
      medians.push(median);
      let last = -1;
      for (let r = 0; r < R; r++) if (isFinite(med[r])) last = r;
      if (vis) {
        for (let r = 0; r < R; r++) if (isFinite(med[r]) && (!d.log || med[r] > 0)) { lo = Math.min(lo, med[r]); hi = Math.max(hi, med[r]); }
        if (last >= 0 && last < R - 1) { sx.push(x[last]); sy.push(med[last]); stext.push(o.name + ": half its starts diverged after step " + x[last]); }
      }
    }
    const crosses = Object.assign({}, d.cross, { x: sx, y: sy, text: stext, meta: "err-cross" });
    if (!isFinite(lo)) { lo = d.log ? 1e-3 : 0; hi = d.log ? 1 : 1; }
    this.errRange = [lo, hi];
    const s = d.rows[this.frame];
    const traces = [...bands, ...medians, crosses];
    const shapes = (d.err.layout.shapes || []).map((sh, i) => (i === 0 ? Object.assign({}, sh, { x0: s, x1: s }) : sh));
    const yaxis = Object.assign({}, d.err.layout.yaxis);
    if (d.log && hi / lo >= 100) {
      // whole decades, as many as fit: labels at least 2.2 lines apart
      const decades = Math.log10(hi / lo) + 1;
      const plotH = Math.max(60, this.size.errH - 3.5 * d.err.layout.font.size - 30);
      yaxis.dtick = Math.max(1, Math.ceil(decades * 2.2 * yaxis.tickfont.size / plotH));
    }
    if (d.symlog) Object.assign(yaxis, symlogTicks(lo, hi, d.symlog));
    const layout = Object.assign({}, d.err.layout, { width: this.size.errW, height: this.size.errH, shapes, yaxis });
    return P.react(this.errDiv, traces, layout, Object.assign({}, config, {
      toImageButtonOptions: { format: "png", scale: 2, filename: "optviz-errors" } }));
  }

  // ------------------------------------------------------------------ the player
  // A frame of the animation (playing, or the step slider moving): the markers on the overlay
  // canvas, Plotly's own hidden; Plotly draws them again when the player stops (sync).
  drawFrame() {
    if (!this.overlayOn) this.startOverlay();
    if (this.overlayOn) this.drawOverlay(); else this.applyFrame();
    this.synced = false;
    this.showFrameText();
  }

  startOverlay() {
    const fl = this.raceDiv._fullLayout, efl = this.errDiv._fullLayout;
    if (!fl || !efl || !this.raceGroups) return;
    const dpr = window.devicePixelRatio || 1;
    for (const [cv, w, h] of [[this.overlay, this.size.raceW, this.size.raceH],
                              [this.errOverlay, this.size.errW, this.size.errH]]) {
      cv.width = Math.round(w * dpr); cv.height = Math.round(h * dpr);
      cv.style.width = w + "px"; cv.style.height = h + "px";
      cv.style.display = "block";
    }
    for (const idx of [...this.markerIdx, this.crossIdx, ...this.trailIdx()]) {
      const g = this.raceGroups[idx];
      if (g) g.style.opacity = "0";
    }
    const now = this.errDiv.querySelector('.shapelayer path[data-index="0"]');
    if (now) now.style.opacity = "0";
    this.overlayOn = true;
  }

  // The race's path traces (2-D): while the race plays they are drawn on the overlay up to the
  // step shown (trails), so that the chart is not a tangle of the whole future at step 0.
  trailIdx() {
    const d = this.data;
    return d && d.dim === 2 ? d.optimizers.map((o, k) => d.race.data.length + k) : [];
  }

  // Each optimizer's trails are kept on a canvas of their own, drawn up to the last step shown
  // and extended by the new steps only (a frame costs its new segments, not the whole past:
  // 256 starts played at 24 frames/s when every frame drew every path from step 0, 58 now). A
  // layer is drawn opaque and laid on the overlay at the path's opacity, as one path was before;
  // each start's dash continues where it stopped (lineDashOffset = the length drawn so far).
  // Going back, a new size, zoom, data or a hidden optimizer starts the layers again; they are
  // dropped when the race stops. Past TRAIL_BYTES of layers, the remaining optimizers share one.
  trailLayers(xa, ya) {
    const d = this.data, dpr = window.devicePixelRatio || 1;
    const key = [this.size.raceW, this.size.raceH, dpr, xa._offset, ya._offset, xa.range.join(),
                 ya.range.join(), [...this.hidden].join("\u0001")].join("|");
    let T = this._trails;
    if (!T || T.key !== key || T.decs !== this.decs || this.frame < T.frame) {
      T = this._trails = { key, decs: this.decs, frame: -1, paths: {}, canvases: [] };
    }
    const W = Math.round(this.size.raceW * dpr), H = Math.round(this.size.raceH * dpr);
    const own = Math.max(1, Math.floor(TRAIL_BYTES / (4 * W * H)) - 1);
    const canvas = (alpha) => {
      if (T.canvases.length > own) return T.canvases[T.canvases.length - 1];  // the shared one
      const cv = document.createElement("canvas");
      cv.width = W; cv.height = H;
      const c = cv.getContext("2d");
      c.setTransform(dpr, 0, 0, dpr, 0, 0);
      const layer = { cv, c, alpha };
      T.canvases.push(layer);
      return layer;
    };
    const px = (x) => xa._offset + xa.c2p(x), py = (y) => ya._offset + ya.c2p(y);
    d.optimizers.forEach((o) => {
      if (this.hidden.has(o.name)) return;
      const dec = this.decs[o.name], n = dec.n, pos = dec.pos;
      let P = T.paths[o.name];
      if (!P) {
        P = T.paths[o.name] = {
          layer: canvas(o.look.path.opacity === undefined ? 1 : o.look.path.opacity),
          X: new Float64Array(n), Y: new Float64Array(n), x: new Float64Array(n), y: new Float64Array(n),
          pen: new Uint8Array(n), len: new Float64Array(n) };
      }
      const line = o.look.path.line, c = P.layer.c;
      c.strokeStyle = line.color; c.lineWidth = line.width;
      const dash = dashArray(line.dash, line.width);
      c.setLineDash(dash);
      for (let j = 0; j < n; j++) {
        const end = dec.dead[j] >= 0 ? Math.min(this.frame, dec.dead[j] - 1) : this.frame;
        if (end <= T.frame) continue;
        let drawn = false;
        c.lineDashOffset = P.len[j];
        c.beginPath();
        if (P.pen[j]) c.moveTo(P.X[j], P.Y[j]);
        for (let r = T.frame + 1; r <= end; r++) {
          const x = pos[(r * n + j) * 2], y = pos[(r * n + j) * 2 + 1];
          if (!isFinite(x) || !isFinite(y)) { P.pen[j] = 0; continue; }
          const X = px(x), Y = py(y);
          if (P.pen[j]) { c.lineTo(X, Y); P.len[j] += Math.hypot(X - P.X[j], Y - P.Y[j]); drawn = true; }
          else c.moveTo(X, Y);
          P.pen[j] = 1; P.X[j] = X; P.Y[j] = Y; P.x[j] = x; P.y[j] = y;
        }
        if (drawn) c.stroke();
      }
    });
    T.frame = this.frame;
    return T;
  }

  drawTrails(ctx, xa, ya) {
    const d = this.data, T = this.trailLayers(xa, ya);
    const frame = this.frame, frac = this.frac || 0;
    for (const layer of T.canvases) {
      ctx.globalAlpha = layer.alpha;
      ctx.drawImage(layer.cv, 0, 0, this.size.raceW, this.size.raceH);
    }
    if (!(frac > 0)) return;
    // the part of the next step the clock has reached, from where each live path is
    d.optimizers.forEach((o) => {
      const P = T.paths[o.name], dec = this.decs[o.name], n = dec.n, pos = dec.pos;
      if (!P || this.hidden.has(o.name) || frame + 1 >= dec.R) return;
      const line = o.look.path.line;
      ctx.globalAlpha = P.layer.alpha;
      ctx.strokeStyle = line.color; ctx.lineWidth = line.width;
      ctx.setLineDash(dashArray(line.dash, line.width));
      for (let j = 0; j < n; j++) {
        if (!P.pen[j] || (dec.dead[j] >= 0 && dec.dead[j] <= frame + 1)) continue;
        const x = pos[((frame + 1) * n + j) * 2], y = pos[((frame + 1) * n + j) * 2 + 1];
        if (!isFinite(x) || !isFinite(y)) continue;
        ctx.lineDashOffset = P.len[j];
        ctx.beginPath();
        ctx.moveTo(P.X[j], P.Y[j]);
        ctx.lineTo(xa._offset + xa.c2p(P.x[j] + frac * (x - P.x[j])), ya._offset + ya.c2p(P.y[j] + frac * (y - P.y[j])));
        ctx.stroke();
      }
    });
    ctx.globalAlpha = 1;
    ctx.setLineDash([]);
    ctx.lineDashOffset = 0;
  }

  stopOverlay() {
    for (const cv of [this.overlay, this.errOverlay]) cv.style.display = "none";
    this.overlayOn = false;
    this._trails = null;  // (the trail layers: memory only while the race plays)
  }

  drawOverlay() {
    const d = this.data;
    const fl = this.raceDiv._fullLayout, efl = this.errDiv._fullLayout;
    const dpr = window.devicePixelRatio || 1;
    const ctx = this.overlay.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.size.raceW, this.size.raceH);
    const xa = fl.xaxis, ya = fl.yaxis, ya2 = fl.yaxis2;
    ctx.save();
    const bottom = d.dim === 1 ? ya2._offset + ya2._length : ya._offset + ya._length;
    ctx.beginPath();
    ctx.rect(xa._offset, ya._offset, xa._length, bottom - ya._offset);
    ctx.clip();
    if (d.dim === 2 && !this.cleared) this.drawTrails(ctx, xa, ya);
    d.optimizers.forEach((o, k) => {
      if (this.hidden.has(o.name) || this.cleared) return;
      const f = this.frameState(this.decs[o.name], this.frame, this.frac || 0);
      const m = o.look.marker.marker;
      for (let j = 0; j < f.x.length; j++) {
        if (!f.vis[j]) continue;
        const X = xa._offset + xa.c2p(f.x[j]);
        drawMark(ctx, X, ya._offset + ya.c2p(f.y[j]), m.symbol, m.size, m.color);
        if (d.dim === 1) drawMark(ctx, X, ya2._offset + ya2.c2p(k), m.symbol, m.size, m.color);
      }
    });
    if (this.cross) {
      const cm = d.cross.marker;
      for (let i = 0; i < this.cross.row.length; i++) {
        if (this.frame >= this.cross.row[i]) {
          drawMark(ctx, xa._offset + xa.c2p(this.cross.x[i]), ya._offset + ya.c2p(this.cross.y[i]), "x", cm.size,
                   cm.color);
        }
      }
    }
    ctx.restore();
    const ex = this.errOverlay.getContext("2d");
    ex.setTransform(dpr, 0, 0, dpr, 0, 0);
    ex.clearRect(0, 0, this.size.errW, this.size.errH);
    const exa = efl.xaxis, eya = efl.yaxis;
    const X = exa._offset + exa.l2p(d.rows[this.frame] + (this.frac || 0) * ((d.rows[this.frame + 1] || 0) - d.rows[this.frame]));
    ex.strokeStyle = "rgba(40,40,40,0.45)";
    ex.lineWidth = 1.5;
    ex.beginPath();
    ex.moveTo(X, eya._offset);
    ex.lineTo(X, eya._offset + eya._length);
    ex.stroke();
  }

  applyFrame() {
    const d = this.data;
    const fl = this.raceDiv._fullLayout;
    if (!fl || !this.pointEls) return;
    const xa = fl.xaxis, ya = fl.yaxis, ya2 = fl.yaxis2;
    d.optimizers.forEach((o, k) => {
      const f = this.frameState(this.decs[o.name], this.frame, this.frac || 0);
      const idxMain = this.markerIdx[k];
      const targets = [[this.pointEls[idxMain], ya, null]];
      if (d.dim === 1) targets.push([this.pointEls[this.markerIdx[d.optimizers.length + k]], ya2, k]);
      for (const [els, yax, lane] of targets) {
        if (!els) continue;
        for (let j = 0; j < f.x.length; j++) {
          const e = els[j];
          if (!e) continue;
          if (f.vis[j]) {
            e.setAttribute("transform", "translate(" + xa.c2p(f.x[j]) + "," + yax.c2p(lane === null ? f.y[j] : lane) + ")");
            e.style.opacity = "1";
          } else {
            e.style.opacity = "0";
          }
        }
      }
    });
    const cels = this.pointEls[this.crossIdx];
    if (cels && this.cross) {
      for (let i = 0; i < this.cross.row.length; i++) if (cels[i]) cels[i].style.opacity = this.frame >= this.cross.row[i] ? "1" : "0";
    }
    this.moveNow();
  }

  moveNow() {
    const fl = this.errDiv._fullLayout;
    const path = this.errDiv.querySelector('.shapelayer path[data-index="0"]');
    if (!fl || !path) return;
    const xa = fl.xaxis, ya = fl.yaxis;
    const X = xa._offset + xa.l2p(this.data.rows[this.frame]);
    path.setAttribute("d", "M" + X + "," + ya._offset + "L" + X + "," + (ya._offset + ya._length));
  }

  // After drawing on the overlay or moving elements by hand, a proper redraw (Plotly's markers,
  // hover labels and data agree again), then the overlay goes.
  sync() {
    if (this.synced && !this.overlayOn) return Promise.resolve();
    return this.render().then(() => {
      for (const idx of [...this.markerIdx, this.crossIdx, ...this.trailIdx()]) {
        const g = this.raceGroups && this.raceGroups[idx];
        if (g) g.style.opacity = "";
      }
      const now = this.errDiv.querySelector('.shapelayer path[data-index="0"]');
      if (now) now.style.opacity = "";
      this.stopOverlay();
    });
  }

  showFrameText() {
    const d = this.data;
    const s = d.rows[this.frame];
    this.stepInput.value = String(this.frame);
    this.stepInput.setAttribute("aria-valuetext", "step " + s + " of " + d.steps);
    this.stepText.textContent = "step " + s + " / " + d.steps;
    this.root.dataset.frame = String(this.frame);
    this.root.dataset.step = String(s);
  }

  setFrame(k) {
    this.frame = Math.max(0, Math.min(this.data.rows.length - 1, k));
    this.frac = 0;
    this.drawFrame();
  }

  // The user moved the player: the scene's play once is over.
  takeOver() {
    const g = window.__optvizPlay;
    if (g && this.data && g.scene === this.data.scene) g.done = true;
  }

  // One recorded step back or forward (◀ ▶, the arrow keys): the player stops, the chart redraws.
  stepBy(delta) {
    if (!this.data) return;
    this.takeOver();
    if (this.playing) { this.playing = false; this.root.dataset.playing = "0"; }
    this.autoplay = null;
    this.setFrame(this.frame + delta);
    this.sync();
  }

  play(slow) {
    if (!this.data) return;
    const d = this.data;
    const R = d.rows.length;
    const base = Math.min(PLAY_S.max, Math.max(PLAY_S.min, R * PLAY_S.perRow));
    this.duration = 1000 * base * (slow ? PLAY_S.slow : 1);
    if (this.frame >= R - 1) this.frame = 0;
    // start from the frame shown now, on the warped clock
    this.t0 = performance.now() - warpShare(d.rows[this.frame], d.steps) * this.duration;
    this.stats.frames = 0;
    this.stats.playStart = performance.now();
    this.stats.playedFrom = this.frame;
    (this.stats.starts = this.stats.starts || []).push([Math.round(performance.now()), this.frame]);
    this.root.dataset.playing = "1";
    if (!this.playing) {
      this.playing = true;
      requestAnimationFrame(this._tick);
    }
  }

  pause() {
    const was = this.playing;
    this.playing = false;
    this.frac = 0;
    this.root.dataset.playing = "0";
    if (was) this.sync();
  }

  tick(ts) {
    if (!this.playing) return;
    const d = this.data;
    const R = d.rows.length;
    const share = Math.min(1, (performance.now() - this.t0) / this.duration);
    const u = share >= 1 ? R - 1 : rowOf(d.rows, warpedStep(share, d.steps));
    this.frame = Math.min(R - 1, Math.floor(u));
    this.frac = this.frame < R - 1 ? u - this.frame : 0;
    this.drawFrame();
    const g = window.__optvizPlay;
    if (g && g.scene === d.scene) g.frame = this.frame;
    this.stats.frames += 1;
    if (!window.__optvizTimes.firstFrame) {
      window.__optvizTimes.firstFrame = performance.now();
      window.__optvizTimes.firstStep = d.rows[this.frame];
    }
    if (g && g.scene === d.scene && share >= 0.5 && g.half === undefined) g.half = d.rows[this.frame];
    const el = performance.now() - this.stats.playStart;
    if (el > 0) this.root.dataset.fps = String(Math.round(1000 * this.stats.frames / el));
    if (share >= 1) {
      this.stats.played = { from: this.stats.playedFrom, frames: this.stats.frames, ms: el };
      this.root.dataset.played = "1";
      this.takeOver();
      this.pause();
      return;
    }
    requestAnimationFrame(this._tick);
  }

  // ------------------------------------------------------------------ starts
  showHint() {
    const d = this.data;
    this.hint.textContent = this.cleared
      ? "No starts: click the chart to place the first one."
      : "Click the chart to add a start (" + d.n + " now); drag a start's ring to move it.";
  }

  // "Clear starts": the race disappears from the chart (the landscape stays) and the next click
  // places the only start; Python keeps the old starts until then.
  clearStarts() {
    if (!this.data) return;
    this.pause();
    this.cleared = true;
    this.showHint();
    this.render();
  }

  // The chart point under a mouse event: {px, py} in the axes' pixels, {x, y} in data; null outside.
  chartPoint(ev) {
    const fl = this.raceDiv._fullLayout;
    if (!fl) return null;
    const xa = fl.xaxis, ya = fl.yaxis;
    const box = this.raceDiv.getBoundingClientRect();
    const px = ev.clientX - box.left - xa._offset, py = ev.clientY - box.top - ya._offset;
    if (px < 0 || px > xa._length) return null;
    if (this.data.dim === 2 && (py < 0 || py > ya._length)) return null;
    const x = xa.range[0] + (px / xa._length) * (xa.range[1] - xa.range[0]);
    const y = ya.range[1] - (py / ya._length) * (ya.range[1] - ya.range[0]);
    return { px, py, x, y };
  }

  onChartClick(ev) {
    if (this.dragged) { this.dragged = false; return; } // the end of a drag is no click
    const at = this.chartPoint(ev);
    if (!at || !this.hooks.setTriggerValue) return;
    this.send(); // slider values still on their way go first: the click's rerun sees them
    const point = this.data.dim === 1 ? [at.x] : [at.x, at.y];
    this.hooks.setTriggerValue("click", { point, replace: !!this.cleared });
  }

  // A start's ring dragged: it follows the mouse (a ring of its own), and where it is let go
  // the start moves (the server reruns the race from the new start).
  onPointerDown(ev) {
    if (ev.button !== 0 || this.cleared || !this.hooks.setTriggerValue) return;
    const at = this.chartPoint(ev);
    const fl = this.raceDiv._fullLayout;
    const starts = this.data.race.above.find((t) => t.meta === "starts");
    if (!at || !fl || !starts) return;
    let best = -1, bestD = 12; // px: the ring's size
    for (let j = 0; j < starts.x.length; j++) {
      const sy = this.data.dim === 1 ? starts.y[j] : starts.y[j];
      const d = Math.hypot(fl.xaxis.c2p(starts.x[j]) - at.px, fl.yaxis.c2p(sy) - at.py);
      if (d < bestD) { best = j; bestD = d; }
    }
    if (best < 0) return;
    ev.preventDefault();
    ev.stopPropagation();
    this.drag = { j: best, x0: ev.clientX, y0: ev.clientY, moved: false };
    if (!this.ghost) {
      this.ghost = el("div", { class: "ov-ghost", "aria-hidden": "true" });
      this.raceDiv.parentElement.append(this.ghost);
    }
    const move = (e) => {
      const d = this.drag;
      if (!d) return;
      if (Math.hypot(e.clientX - d.x0, e.clientY - d.y0) > 3) d.moved = true;
      const box = this.raceDiv.getBoundingClientRect();
      this.ghost.style.display = d.moved ? "block" : "none";
      this.ghost.style.left = e.clientX - box.left + "px";
      this.ghost.style.top = e.clientY - box.top + "px";
    };
    const up = (e) => {
      window.removeEventListener("pointermove", move, true);
      window.removeEventListener("pointerup", up, true);
      const d = this.drag;
      this.drag = null;
      if (!d || !d.moved) return;
      this.dragged = true; // the click that follows is the drag's
      setTimeout(() => { this.dragged = false; }, 400);
      const to = this.chartPoint(e);
      if (!to) { this.ghost.style.display = "none"; return; } // let go outside: nothing moves
      this.hint.textContent = "Moving start " + (d.j + 1) + "…";
      this.send();
      this.hooks.setTriggerValue("move", { index: d.j, point: this.data.dim === 1 ? [to.x] : [to.x, to.y] });
    };
    window.addEventListener("pointermove", move, true);
    window.addEventListener("pointerup", up, true);
  }
}

// The host-neutral entry point: the race in `parent` (made once per element; a host calls it
// again with new hooks and then app.update(data)). The hosts are thin adapters around it, in
// assets/hosts/: streamlit.js (the dashboard's component), page.js (the single HTML file) and
// widget.js (the notebook widget, anywidget); Python puts this file and one host together.
function mountRace(parent, hooks = {}) {
  let app = parent.__optvizRace;
  if (!app) app = parent.__optvizRace = new RaceApp(parent);
  app.setHooks(hooks.setStateValue, hooks.setTriggerValue);
  window.__optvizRace = app; // for the browser tests and the benchmark
  return app;
}

function unmountRace(parent) {
  const app = parent.__optvizRace;
  if (app) app.destroy();
  parent.__optvizRace = undefined;
}

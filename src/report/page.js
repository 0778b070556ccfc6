// report.html's own script: learning curves per panel (uPlot), the table of
// every job (sort, filter, select), and the state that links them.
//
// State can be set from the address's hash, so a view can be shared and the
// browser test can drive the page without clicks:
//   #filter=lr:0.1|0.01;dataset:xor&select=<job id>|<job id>&metric=accuracy&scale=linear&colour=lr&yrange=panel
// The page writes what it drew into #status (data-ready, data-errors,
// data-ms: time to interactive) and
// into each panel's data-drawn / data-jobs / data-ymin / data-ymax /
// data-right (where the chart ends, in px); errors go to #errors.
"use strict";
(function () {
  const errBox = document.getElementById("errors");
  const status = document.getElementById("status");
  function fail(msg) {
    errBox.hidden = false;
    errBox.textContent += msg + "\n";
    status.dataset.errors = String(Number(status.dataset.errors || 0) + 1);
  }
  window.addEventListener("error", (e) => fail("error: " + e.message));
  window.addEventListener("unhandledrejection", (e) => fail("unhandled rejection: " + e.reason));
  const consoleError = console.error.bind(console);
  console.error = (...args) => {
    fail("console.error: " + args.join(" "));
    consoleError(...args);
  };
  try {
    main();
    status.dataset.ready = "1";
    // Milliseconds from the start of navigation to a drawn, working page.
    status.dataset.ms = String(Math.round(performance.now()));
  } catch (e) {
    fail("error: " + ((e && e.stack) || e));
  }

  function main() {
    const D = JSON.parse(document.getElementById("data").textContent);
    // Okabe & Ito (2008): the same palette as the SVG figures.
    const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"];
    const METRIC_NAMES = {
      loss: "training loss",
      accuracy: "training accuracy",
      test_loss: "held-out loss",
      test_accuracy: "held-out accuracy",
    };
    // The y axis's title, with the unit the figures give it.
    const AXIS_NAMES = {
      loss: "training loss (mean per sample)",
      accuracy: "training accuracy (%)",
      test_loss: "held-out loss (mean per sample)",
      test_accuracy: "held-out accuracy (%)",
    };
    const isAccuracy = (m) => m.endsWith("accuracy");
    // A value of metric `m` as the table shows it (accuracy in percent).
    const showValue = (m, y) => (isAccuracy(m) ? pct(y) : sig(y));
    // An accuracy axis stays within 0..100%.
    const clampAccuracy = (r) => (isAccuracy(state.metric) ? [Math.max(0, r[0]), Math.min(1, r[1])] : r);
    // Losses above this multiple of the largest initial loss are off the
    // shared range (a blown-up job would squash every other line), as in
    // the figures (`BLOW_UP` in figures.rs).
    const BLOW_UP = 100;
    const keys = D.keys;
    const label = (k, v) => (D.labels[k] && D.labels[k][v]) || v;
    const keyIndex = (k) => keys.indexOf(k);
    const state = {
      metric: D.metrics[0],
      log: true,
      // One y range for every panel (as the SVG figures), or each its own.
      yShared: true,
      colourBy: D.colourBy,
      hidden: new Set(), // values of colourBy whose lines are hidden
      allowed: keys.map((k, i) => new Set(D.values[i])), // per key, values that pass the filter
      text: "",
      selected: new Set(),
      sort: { col: null, dir: 1 },
    };
    // A filter from the address is applied after the first drawing, the way
    // a click on the filter's checkboxes is.
    let pendingFilter = null;
    readHash();

    // ---- formatting ----
    function sig(x) {
      if (x === null || x === undefined) return "—";
      if (typeof x !== "number") return String(x);
      if (x === 0) return "0";
      const a = Math.abs(x);
      if (a >= 1e4 || a < 1e-3) return x.toExponential(2).replace(/\.?0+e/, "e").replace("e+", "e");
      return String(Number(x.toPrecision(3)));
    }
    const pct = (x) => (x === null || x === undefined ? "—" : sig(100 * x) + "%");

    // ---- which jobs pass the filter ----
    function passes(j) {
      const job = D.jobs[j];
      for (let i = 0; i < keys.length; i++) if (!state.allowed[i].has(job.p[i])) return false;
      if (state.text && !job.id.toLowerCase().includes(state.text)) return false;
      return true;
    }
    function colourIndex(j) {
      if (!state.colourBy) return 0;
      const i = keyIndex(state.colourBy);
      return D.values[i].indexOf(D.jobs[j].p[i]);
    }
    function visible(j) {
      if (!passes(j)) return false;
      if (state.colourBy && state.hidden.has(D.jobs[j].p[keyIndex(state.colourBy)])) return false;
      return true;
    }
    // Past the eight colours, which then repeat, a value's lines are
    // dashed (as in the figures: `dashed` in figures.rs).
    const dashedAt = (vi) => Math.floor(vi / PALETTE.length) % 2 === 1;
    const DASH = [8, 4];
    function colour(j, alpha) {
      const c = PALETTE[colourIndex(j) % PALETTE.length];
      const a = Math.round(alpha * 255).toString(16).padStart(2, "0");
      return c + a;
    }

    // ---- controls ----
    const metricSel = document.getElementById("metric");
    D.metrics.forEach((m) => metricSel.add(new Option(METRIC_NAMES[m] || m, m)));
    metricSel.value = state.metric;
    metricSel.onchange = () => {
      state.metric = metricSel.value;
      scaleChoice();
      buildCharts();
    };
    // Only a loss has a log axis: for an accuracy the choice is greyed out
    // (a "log" that draws a linear axis would mislead).
    function scaleChoice() {
      scaleSel.disabled = isAccuracy(state.metric);
      scaleSel.title = scaleSel.disabled ? "accuracy is drawn on a linear axis" : "";
    }
    const yrangeSel = document.getElementById("yrange");
    yrangeSel.value = state.yShared ? "shared" : "panel";
    yrangeSel.onchange = () => {
      state.yShared = yrangeSel.value === "shared";
      buildCharts();
    };
    // One panel has nothing to share a range with.
    document.getElementById("yrange-control").hidden = D.panels.length < 2;
    document.getElementById("yrange-hint").hidden = D.panels.length < 2;
    document.getElementById("panel-hint").textContent = D.panelKeys.length
      ? "One panel per " + D.panelKeys.join(" × ")
      : "One panel";
    const scaleSel = document.getElementById("scale");
    scaleSel.value = state.log ? "log" : "linear";
    scaleChoice();
    scaleSel.onchange = () => {
      state.log = scaleSel.value === "log";
      buildCharts();
    };
    const colourSel = document.getElementById("colour-by");
    keys.forEach((k) => colourSel.add(new Option(k, k)));
    if (!keys.length) colourSel.add(new Option("—", ""));
    colourSel.value = state.colourBy || "";
    colourSel.onchange = () => {
      state.colourBy = colourSel.value || null;
      state.hidden.clear();
      buildChips();
      buildCharts();
    };
    document.getElementById("clear-selection").onclick = () => {
      state.selected.clear();
      selectionChanged();
    };

    function buildChips() {
      const box = document.getElementById("chips");
      box.textContent = "";
      if (!state.colourBy) return;
      const i = keyIndex(state.colourBy);
      D.values[i].forEach((v, vi) => {
        const chip = document.createElement("span");
        chip.className = "chip" + (state.hidden.has(v) ? " off" : "");
        const sw = document.createElement("span");
        sw.className = "sw";
        const c = PALETTE[vi % PALETTE.length];
        sw.style.background = c;
        if (dashedAt(vi)) {
          sw.classList.add("dashed");
          sw.style.background = "repeating-linear-gradient(90deg, " + c + " 0 6px, transparent 6px 9px)";
        }
        chip.append(sw, state.colourBy + " = " + label(state.colourBy, v));
        chip.title = v;
        chip.onclick = () => {
          if (state.hidden.has(v)) state.hidden.delete(v);
          else state.hidden.add(v);
          chip.classList.toggle("off");
          updateVisibility();
        };
        box.append(chip);
      });
    }

    // ---- charts ----
    let charts = [];
    function values(j) {
      const ys = D.curves[state.metric][j] || [];
      if (!state.log || !state.metric.endsWith("loss")) return ys;
      return ys.map((y) => (y !== null && y > 0 ? y : null));
    }
    // The y range every panel shares: it covers every drawn line of every
    // panel; on a log axis it is widened to whole decades and its top is
    // capped at BLOW_UP times the largest initial loss, as the figures'
    // range is (`decade_range` in figures.rs). Null when nothing is drawn.
    let shared = null;
    function sharedRange() {
      const logY = state.log && state.metric.endsWith("loss");
      let lo = Infinity, hi = -Infinity, start = -Infinity;
      D.panels.forEach((p) =>
        p.jobs.forEach((j) => {
          if (!visible(j)) return;
          let first = true;
          values(j).forEach((y) => {
            if (y === null || !isFinite(y) || (logY && y <= 0)) return;
            if (first) start = Math.max(start, y);
            first = false;
            lo = Math.min(lo, y);
            hi = Math.max(hi, y);
          });
        })
      );
      if (!(isFinite(lo) && isFinite(hi))) return null;
      if (!logY) return clampAccuracy(uPlot.rangeNum(lo, hi, 0.1, true));
      const up = (v) => Math.pow(10, Math.ceil(Math.log10(v) - 1e-9));
      const down = (v) => Math.pow(10, Math.floor(Math.log10(v) + 1e-9));
      const cap = state.metric.endsWith("loss") && isFinite(start) ? up(BLOW_UP * start) : Infinity;
      const top = Math.min(up(hi), cap);
      const bottom = down(lo);
      return [bottom, top > bottom ? top : bottom * 10];
    }
    function yRange(u, min, max) {
      if (state.yShared && shared) return shared;
      // Nothing drawn (every line filtered out): no range, as uPlot's own.
      if (min === null || max === null) return [null, null];
      const logY = state.log && state.metric.endsWith("loss");
      return logY ? uPlot.rangeLog(min, max, 10, true) : clampAccuracy(uPlot.rangeNum(min, max, 0.1, true));
    }
    function buildCharts() {
      charts.forEach((c) => c.u.destroy());
      charts = [];
      const root = document.getElementById("panels");
      root.textContent = "";
      const logY = state.log && state.metric.endsWith("loss");
      const anySelected = state.selected.size > 0;
      shared = sharedRange();
      // Every panel's box first, so the grid has its final columns before
      // any chart measures its width.
      const boxes = D.panels.map((p, pi) => {
        const div = document.createElement("div");
        div.className = "panel";
        div.dataset.panel = String(pi);
        div.dataset.jobs = String(p.jobs.length);
        const h = document.createElement("h3");
        h.textContent = p.title;
        const plot = document.createElement("div");
        const readout = document.createElement("div");
        readout.className = "readout";
        readout.textContent = "Hover a line.";
        div.append(h, plot, readout);
        root.append(div);
        return { div: div, plot: plot, readout: readout };
      });
      D.panels.forEach((p, pi) => {
        const { div, plot, readout } = boxes[pi];
        const series = [{ label: "epoch" }];
        p.jobs.forEach((j) => {
          const sel = state.selected.has(j);
          series.push({
            label: D.jobs[j].id,
            stroke: colour(j, anySelected ? (sel ? 1 : 0.12) : 0.75),
            width: sel ? 2.5 : 1,
            dash: dashedAt(colourIndex(j)) ? DASH : undefined,
            points: { show: false },
            spanGaps: true,
            show: visible(j),
          });
        });
        const data = [p.epochs].concat(p.jobs.map(values));
        let focused = null;
        const width = chartWidth(div);
        const u = new uPlot(
          {
            width: width,
            height: 320,
            series: series,
            scales: { x: { time: false }, y: Object.assign({ range: yRange }, logY ? { distr: 3, log: 10 } : {}) },
            axes: [
              { label: "epoch", values: (u, ticks) => ticks.map((t) => (t === null ? "" : String(Math.round(t)))) },
              Object.assign(
                {
                  label: AXIS_NAMES[state.metric] || state.metric,
                  size: 64,
                  values: (u, ticks) => ticks.map((t) => (t === null ? "" : showValue(state.metric, t))),
                },
                logY ? { splits: decades } : {}
              ),
            ],
            legend: { show: false },
            cursor: { drag: { x: true, y: true, uni: 30 }, focus: { prox: 24 } },
            focus: { alpha: 0.3 },
            hooks: {
              setSeries: [
                (u, si, opts) => {
                  if (opts && opts.focus !== undefined) focused = opts.focus ? si : null;
                  showReadout();
                },
              ],
              setCursor: [() => showReadout()],
              draw: [(u) => recordChart(u, div)],
            },
          },
          data,
          plot
        );
        function showReadout() {
          const idx = u.cursor.idx;
          if (idx === null || idx === undefined) {
            readout.textContent = "Hover a line.";
            return;
          }
          const epoch = p.epochs[idx];
          if (focused === null || focused === undefined || focused < 1) {
            readout.textContent = "epoch " + epoch;
            return;
          }
          const j = p.jobs[focused - 1];
          const y = (D.curves[state.metric][j] || [])[idx];
          readout.textContent =
            "epoch " + epoch + " · " + D.jobs[j].id + ": " + (METRIC_NAMES[state.metric] || state.metric) + " " + showValue(state.metric, y);
        }
        u.over.addEventListener("click", () => {
          if (focused === null || focused < 1) return;
          const j = p.jobs[focused - 1];
          if (state.selected.has(j)) state.selected.delete(j);
          else state.selected.add(j);
          selectionChanged();
        });
        charts.push({ u: u, panel: p, div: div });
      });
      recordDrawn();
    }
    // Ticks at the powers of ten inside [min, max] (a log axis's 2..9
    // multiples crowd a small panel); over more decades than the plot has
    // room to label, every 2nd, 3rd, ... power (those of 1), so that labels
    // stay MIN_TICK_GAP px apart. How many it drew goes to its panel
    // (data-yticks).
    const MIN_TICK_GAP = 22;
    function decades(u, axisIdx, min, max) {
      const lo = Math.ceil(Math.log10(min) - 1e-9);
      const hi = Math.floor(Math.log10(max) + 1e-9);
      // The plot's height in CSS px (before the first layout, the chart's).
      const px = u.bbox.height > 0 ? u.bbox.height / uPlot.pxRatio : u.height * 0.7;
      const step = Math.max(1, Math.ceil((MIN_TICK_GAP * (hi - lo)) / Math.max(px, 1)));
      const out = [];
      for (let e = lo; e <= hi; e++) if (((e % step) + step) % step === 0) out.push(Math.pow(10, e));
      u.root.dataset.yticks = String(out.length);
      return out.length ? out : [min, max];
    }
    // A chart fills its panel, down to a phone's width (a wider chart
    // would run off the page).
    function chartWidth(div) {
      return Math.max(240, div.clientWidth || 560);
    }
    window.addEventListener("resize", () => {
      charts.forEach((c) => c.u.setSize({ width: chartWidth(c.div), height: 320 }));
      recordDrawn();
    });
    function updateVisibility() {
      shared = sharedRange();
      charts.forEach((c) => {
        c.u.batch(() => {
          c.panel.jobs.forEach((j, k) => {
            const show = visible(j);
            if (c.u.series[k + 1].show !== show) c.u.setSeries(k + 1, { show: show });
          });
        });
        // The shared range follows what is drawn in every panel, not only
        // in this one.
        if (state.yShared && shared) c.u.setScale("y", { min: shared[0], max: shared[1] });
      });
      recordDrawn();
    }
    function recordDrawn() {
      charts.forEach((c) => recordChart(c.u, c.div));
    }
    // What a chart drew, into its panel's data attributes (its scales are
    // set when it draws: this runs then too).
    function recordChart(u, div) {
      div.dataset.drawn = String(u.series.slice(1).filter((s) => s.show).length);
      div.dataset.ymin = String(u.scales.y.min);
      div.dataset.ymax = String(u.scales.y.max);
      div.dataset.yticks = u.root.dataset.yticks || "";
      div.dataset.right = String(Math.round(u.root.getBoundingClientRect().right));
    }

    // ---- the table ----
    const hasTest = D.jobs.some((j) => j.final_test_accuracy !== null);
    const columns = [
      { name: "job", get: (j) => j.id },
      { name: "seed", get: (j) => j.seed, num: true },
    ]
      .concat(keys.map((k, i) => ({ name: k, get: (j) => j.p[i], show: (v) => label(k, v), order: D.values[i] })))
      .concat([
        { name: "status", get: (j) => j.status, cls: "status" },
        { name: "final loss", get: (j) => j.final_loss, num: true, show: sig },
        { name: "final accuracy", get: (j) => j.final_accuracy, num: true, show: pct },
      ])
      .concat(
        hasTest
          ? [
              { name: "final test loss", get: (j) => j.final_test_loss, num: true, show: sig },
              { name: "final test accuracy", get: (j) => j.final_test_accuracy, num: true, show: pct },
            ]
          : []
      )
      .concat([
        { name: "epoch at target", get: (j) => j.epoch_at_target, num: true, show: sig },
        { name: "diverged at epoch", get: (j) => j.diverged_epoch, num: true, show: sig },
      ]);
    const table = document.getElementById("job-table");
    const headRow = document.createElement("tr");
    columns.forEach((c, ci) => {
      const th = document.createElement("th");
      th.textContent = c.name;
      if (c.num) th.className = "num";
      th.onclick = () => {
        state.sort = { col: ci, dir: state.sort.col === ci ? -state.sort.dir : 1 };
        sortTable();
      };
      headRow.append(th);
    });
    table.tHead.append(headRow);
    const rows = D.jobs.map((job, j) => {
      const tr = document.createElement("tr");
      tr.dataset.job = String(j);
      if (job.status === "diverged") tr.className = "diverged";
      columns.forEach((c) => {
        const td = document.createElement("td");
        const v = c.get(job);
        td.textContent = c.show ? c.show(v) : v === null ? "—" : String(v);
        if (c.num) td.className = "num";
        if (c.cls) td.classList.add(c.cls);
        tr.append(td);
      });
      tr.onclick = () => {
        if (state.selected.has(j)) state.selected.delete(j);
        else state.selected.add(j);
        selectionChanged();
      };
      return tr;
    });
    table.tBodies[0].append(...rows);

    function sortTable() {
      const { col, dir } = state.sort;
      if (col === null) return;
      const c = columns[col];
      const key = (j) => {
        const v = c.get(D.jobs[j]);
        if (c.order) return c.order.indexOf(v);
        return v;
      };
      const order = D.jobs.map((_, j) => j);
      order.sort((a, b) => {
        const x = key(a), y = key(b);
        if (x === y) return a - b;
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        return (x < y ? -1 : 1) * dir;
      });
      table.tBodies[0].append(...order.map((j) => rows[j]));
      headRow.querySelectorAll("th").forEach((th, i) => {
        th.classList.toggle("asc", i === col && dir === 1);
        th.classList.toggle("desc", i === col && dir === -1);
      });
    }
    function filterTable() {
      let shown = 0;
      rows.forEach((tr, j) => {
        const ok = passes(j);
        tr.hidden = !ok;
        shown += ok ? 1 : 0;
      });
      const planned = D.planned && D.planned > D.jobs.length ? " (" + D.jobs.length + " of " + D.planned + " jobs of the plan have finished)" : "";
      document.getElementById("count").textContent =
        "Showing " + shown + " of " + D.jobs.length + " jobs" + planned + ". Click a column to sort, a row to highlight its curve.";
    }
    function selectionChanged() {
      rows.forEach((tr, j) => tr.classList.toggle("selected", state.selected.has(j)));
      buildCharts();
    }

    // ---- filters ----
    const filters = document.getElementById("filters");
    keys.forEach((k, i) => {
      const fs = document.createElement("fieldset");
      const lg = document.createElement("legend");
      lg.textContent = k;
      fs.append(lg);
      D.values[i].forEach((v) => {
        const lab = document.createElement("label");
        const box = document.createElement("input");
        box.type = "checkbox";
        box.checked = state.allowed[i].has(v);
        box.dataset.key = k;
        box.dataset.value = v;
        box.onchange = () => {
          if (box.checked) state.allowed[i].add(v);
          else state.allowed[i].delete(v);
          filterChanged();
        };
        lab.append(box, " " + label(k, v));
        lab.title = v;
        fs.append(lab);
      });
      filters.append(fs);
    });
    const search = document.createElement("input");
    search.type = "search";
    search.placeholder = "job id contains…";
    search.value = state.text;
    search.oninput = () => {
      state.text = search.value.trim().toLowerCase();
      filterChanged();
    };
    filters.append(search);
    function filterChanged() {
      filterTable();
      updateVisibility();
    }

    function readHash() {
      const hash = decodeURIComponent(window.location.hash.replace(/^#/, ""));
      if (!hash) return;
      hash.split("&").forEach((part) => {
        const eq = part.indexOf("=");
        if (eq < 0) return;
        const name = part.slice(0, eq), value = part.slice(eq + 1);
        if (name === "filter") {
          pendingFilter = value;
        } else if (name === "select") {
          value.split("|").forEach((id) => {
            const j = D.jobs.findIndex((job) => job.id === id);
            if (j >= 0) state.selected.add(j);
          });
        } else if (name === "metric" && D.metrics.includes(value)) {
          state.metric = value;
        } else if (name === "scale") {
          state.log = value !== "linear";
        } else if (name === "yrange") {
          state.yShared = value !== "panel";
        } else if (name === "colour" && keys.includes(value)) {
          state.colourBy = value;
        }
      });
    }

    buildChips();
    filterTable();
    rows.forEach((tr, j) => tr.classList.toggle("selected", state.selected.has(j)));
    buildCharts();
    if (pendingFilter !== null) {
      pendingFilter.split(";").forEach((f) => {
        const colon = f.indexOf(":");
        const i = keyIndex(f.slice(0, colon));
        if (colon < 0 || i < 0) return;
        state.allowed[i] = new Set(f.slice(colon + 1).split("|").filter((v) => D.values[i].includes(v)));
      });
      filters.querySelectorAll("input[type=checkbox]").forEach((box) => {
        box.checked = state.allowed[keyIndex(box.dataset.key)].has(box.dataset.value);
      });
      filterChanged();
    }
  }
})();

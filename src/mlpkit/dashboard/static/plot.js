// mlpkit dashboard charts, shared by the training page (dashboard.js) and the runs page (runs.js):
// lines or points of several series on a <canvas>, linear or log10 axes, numeric or categorical x.
// Plain JavaScript, no libraries, nothing loaded from elsewhere; it defines window.mlpkitPlot.
"use strict";

window.mlpkitPlot = (function () {
  const PAD = { left: 70, right: 14, top: 10, bottom: 28 };
  const GRID = "#dde", AXIS = "#99a", INK = "#667";
  const DASH = [7, 5]; // a dashed series (validation loss on the runs page)
  const POINT_RADIUS = 3.5;
  const POINT_MARGIN = 0.06; // share of an axis's span left free beyond the outermost dots
  const MAX_LABELS = 12; // categorical ticks shown at most (every n-th beyond that)

  // ------------------------------------------------------------------ numbers
  function fmt(value) {
    if (value === null || value === undefined || !Number.isFinite(value)) return "-";
    const size = Math.abs(value);
    if (size !== 0 && (size >= 1e5 || size < 1e-3)) return value.toExponential(3);
    return value.toPrecision(4);
  }

  // A value in at most `digits` significant figures, without trailing zeros: 0.001, 250, 1e-7.
  function short(value, digits = 4) {
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(digits)));
  }

  function seconds(value) {
    if (!Number.isFinite(value)) return "-";
    return value < 60 ? value.toFixed(1) + " s" : Math.floor(value / 60) + " min " + Math.round(value % 60) + " s";
  }

  const finite = (v) => typeof v === "number" && Number.isFinite(v);

  // [lowest, highest] of values, widened by `margin` (a share of the span) on each side.
  function range(values, margin = 0) {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
    if (lo === hi) { lo -= 0.5; hi += 0.5; }
    const extra = (hi - lo) * margin;
    return [lo - extra, hi + extra];
  }

  function ticks(lo, hi, count) {
    const out = [];
    for (let i = 0; i <= count; i += 1) out.push(lo + ((hi - lo) * i) / count);
    return out;
  }

  // Tick positions (in axis units) and their texts for an x axis.
  const X_TICKS = {
    labels: (lo, hi, o) => {
      const step = Math.ceil(o.labels.length / MAX_LABELS);
      return o.labels.map((text, i) => [i, text]).filter(([i]) => i % step === 0);
    },
    log: (lo, hi) => { // whole decades when the axis spans a few
      const decades = Math.floor(hi) - Math.ceil(lo);
      const at = decades >= 1 ? ticks(Math.ceil(lo), Math.floor(hi), decades) : ticks(lo, hi, 4);
      return at.map((t) => [t, short(Math.pow(10, t), 3)]);
    },
    integer: (lo, hi) => { // whole numbers (epochs), about five of them
      const step = Math.max(1, Math.ceil((hi - lo) / 5)), out = [];
      for (let t = Math.ceil(lo); t <= hi; t += step) out.push([t, String(t)]);
      return out;
    },
    linear: (lo, hi) => ticks(lo, hi, 4).map((t) => [t, fmt(t)]),
  };

  // ------------------------------------------------------------------ the chart
  // Draw `series` ([{xs, values, color, dash, points}]: lines, dashed when `dash`, dots when `points`)
  // on `canvas`. Options: logY / logX (log10 axis when every value on it is positive), labels (the
  // x values are indices into these category names), integerX (whole-number x ticks: epochs),
  // empty (the text shown when there is nothing to draw). The canvas records what it shows:
  // data-points (finite points drawn) and data-series (series with at least one).
  function drawChart(canvas, series, options = {}) {
    const ctx = canvas.getContext("2d");
    const W = canvas.width, H = canvas.height;
    ctx.clearRect(0, 0, W, H);
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillStyle = INK;
    const shown = series.map((s) => s.values.map((v, i) => [s.xs[i], v]).filter(([x, v]) => finite(x) && finite(v)));
    const all = shown.flat();
    canvas.dataset.points = all.length;
    canvas.dataset.series = shown.filter((points) => points.length > 0).length;
    if (all.length === 0) {
      ctx.fillText(options.empty || "waiting for the first epoch", PAD.left, H / 2);
      return all.length;
    }
    const logX = Boolean(options.logX) && all.every(([x]) => x > 0);
    const logY = Boolean(options.logY) && all.every(([, v]) => v > 0);
    const tx = logX ? Math.log10 : (x) => x;
    const ty = logY ? Math.log10 : (v) => v;
    const margin = series.some((s) => s.points) ? POINT_MARGIN : 0; // dots at the edge stay whole
    const [x0, x1] = options.labels ? [-0.5, options.labels.length - 0.5] : range(all.map(([x]) => tx(x)), margin);
    const [y0, y1] = range(all.map(([, v]) => ty(v)), margin);
    const plotW = W - PAD.left - PAD.right, plotH = H - PAD.top - PAD.bottom;
    const ax = (t) => PAD.left + ((t - x0) / (x1 - x0)) * plotW; // axis units -> pixels
    const ay = (t) => H - PAD.bottom - ((t - y0) / (y1 - y0)) * plotH;

    ctx.strokeStyle = GRID;
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const tick of ticks(y0, y1, 4)) {
      ctx.beginPath(); ctx.moveTo(PAD.left, ay(tick)); ctx.lineTo(W - PAD.right, ay(tick)); ctx.stroke();
      ctx.fillText(fmt(logY ? Math.pow(10, tick) : tick), PAD.left - 6, ay(tick));
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    const kind = options.labels ? "labels" : logX ? "log" : options.integerX ? "integer" : "linear";
    for (const [tick, text] of X_TICKS[kind](x0, x1, options)) ctx.fillText(text, ax(tick), H - PAD.bottom + 6);
    ctx.strokeStyle = AXIS;
    ctx.beginPath(); ctx.moveTo(PAD.left, PAD.top); ctx.lineTo(PAD.left, H - PAD.bottom);
    ctx.lineTo(W - PAD.right, H - PAD.bottom); ctx.stroke();

    ctx.lineWidth = 2;
    shown.forEach((points, k) => {
      const s = series[k];
      ctx.strokeStyle = ctx.fillStyle = s.color;
      if (s.points) {
        for (const [x, v] of points) {
          ctx.beginPath(); ctx.arc(ax(tx(x)), ay(ty(v)), POINT_RADIUS, 0, 2 * Math.PI); ctx.fill();
        }
        return;
      }
      // Long runs: about two points per pixel are enough (every `stride`-th point, and the last).
      // A missing value (NaN, or not positive on a log axis) breaks the line.
      const stride = Math.max(1, Math.ceil(s.values.length / (2 * plotW)));
      ctx.setLineDash(s.dash ? DASH : []);
      ctx.beginPath();
      let drawing = false;
      s.values.forEach((v, i) => {
        const x = s.xs[i];
        if (!finite(v) || !finite(x)) { drawing = false; return; }
        if (i % stride !== 0 && i !== s.values.length - 1) return;
        if (drawing) ctx.lineTo(ax(tx(x)), ay(ty(v))); else ctx.moveTo(ax(tx(x)), ay(ty(v)));
        drawing = true;
      });
      ctx.stroke();
      ctx.setLineDash([]);
    });
    return all.length;
  }

  return { fmt, short, seconds, drawChart };
})();

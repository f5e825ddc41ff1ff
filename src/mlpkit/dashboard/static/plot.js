// mlpkit dashboard charts, shared by the training page (dashboard.js) and the runs page (runs.js):
// lines or points of several series on a <canvas>, linear or log10 axes, numeric or categorical x,
// round ticks, axis titles, markers at given x values, and the smoothing of a curve.
// Plain JavaScript, no libraries, nothing loaded from elsewhere; it defines window.mlpkitPlot
// (and, outside a browser, module.exports, so tests can run the tick rules in node).
"use strict";

(function (root) {
  const PAD = { left: 78, right: 24, top: 10, bottom: 44 }; // room for the outer tick labels
  const GRID = "#dde", AXIS = "#99a", INK = "#667";
  const DASH = [7, 5]; // a dashed series (validation loss on the runs page)
  const MARKER_DASH = [2, 3]; // a marker's dotted line (the best epoch)
  const POINT_RADIUS = 3.5;
  const POINT_MARGIN = 0.06; // share of an axis's span left free beyond the outermost dots
  const MAX_LABELS = 12; // categorical ticks shown at most (every n-th beyond that)
  const RAW_ALPHA = 0.25; // how strongly the raw curve shows behind its smoothed line

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
    if (lo === hi) { const half = lo === 0 ? 0.5 : Math.abs(lo) / 20; lo -= half; hi += half; }
    const extra = (hi - lo) * margin;
    return [lo - extra, hi + extra];
  }

  // ------------------------------------------------------------------ ticks
  // Round ticks (Heckbert, "Nice numbers for graph labels", Graphics Gems 1990): the step is 1, 2 or 5
  // times a power of ten, the smallest such step giving at most MAX_TICKS ticks from a multiple of it
  // at or below `lo` to one at or above `hi`. Each step is at most 2.5 times the one before, so the
  // chosen step gives at least 4 ticks (3 when `integer` forbids steps below 1, which adds one at the end).
  const MAX_TICKS = 8, MIN_TICKS = 3;
  const MANTISSAS = [1, 2, 5];
  const exact = (v) => Number(v.toPrecision(12)); // 0.30000000000000004 -> 0.3

  function niceTicks(lo, hi, integer = false) {
    if (!(hi > lo)) [lo, hi] = range([lo, hi]);
    let power = Math.floor(Math.log10((hi - lo) / MAX_TICKS)) - 1;
    for (;;) { // at most a few rounds: the first power is one below the step needed
      for (const mantissa of MANTISSAS) {
        const step = exact(mantissa * Math.pow(10, power));
        if (integer && step < 1) continue;
        const first = Math.floor(lo / step + 1e-9), last = Math.ceil(hi / step - 1e-9);
        if (last - first + 1 > MAX_TICKS) continue;
        const ticks = [];
        for (let k = first; k <= Math.max(last, first + MIN_TICKS - 1); k += 1) ticks.push(exact(k * step));
        return { ticks, step };
      }
      power += 1;
    }
  }

  // Ticks of a log axis over [lo, hi] (lo > 0): the values 1, 2, 5 x 10^n when at most MAX_TICKS of
  // them cover it; else whole decades (every m-th when they are many); over a narrow span (less than
  // 3 ticks of 1, 2, 5), round linear ticks.
  function logTicks(lo, hi) {
    const d0 = Math.floor(Math.log10(lo) + 1e-9), d1 = Math.ceil(Math.log10(hi) - 1e-9);
    if (d1 - d0 <= MAX_TICKS) { // beyond, 1, 2, 5 x 10^n would be far too many
      const candidates = [];
      for (let d = d0; d <= d1; d += 1) for (const m of MANTISSAS) candidates.push(exact(m * Math.pow(10, d)));
      const first = candidates.filter((c) => c <= lo * (1 + 1e-9)).pop();
      const last = candidates.find((c) => c >= hi * (1 - 1e-9));
      const ticks = candidates.filter((c) => c >= first && c <= last);
      if (ticks.length > MAX_TICKS) { /* too many: whole decades below */ } else if (ticks.length >= MIN_TICKS) {
        return { ticks, step: null };
      } else {
        const linear = niceTicks(lo, hi); // hi < 2.5 lo here, so the step is below lo and every tick positive
        return linear;
      }
    }
    const every = Math.ceil((d1 - d0) / (MAX_TICKS - 1)), ticks = [];
    for (let d = d0; d < d1 + every; d += every) ticks.push(exact(Math.pow(10, d)));
    return { ticks, step: null };
  }

  // A tick's text: as many decimals as the step has (0.02 -> "0.02"), powers of ten as "1e-5".
  function tickText(value, step) {
    if (value === 0) return "0";
    const size = Math.abs(value);
    if (step === null || size >= 1e6 || size < 1e-4) return String(exact(value));
    const decimals = Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
    return value.toFixed(Math.min(decimals, 20));
  }

  // An axis: [start, end] in axis units (log10 on a log axis) and its ticks [position, text].
  function axis(values, { log, integer, margin }) {
    const [lo, hi] = range(values, margin);
    if (log) {
      const { ticks, step } = logTicks(Math.pow(10, lo), Math.pow(10, hi));
      return { start: Math.log10(ticks[0]), end: Math.log10(ticks[ticks.length - 1]),
               ticks: ticks.map((t) => [Math.log10(t), tickText(t, step)]) };
    }
    const { ticks, step } = niceTicks(lo, hi, integer);
    return { start: ticks[0], end: ticks[ticks.length - 1], ticks: ticks.map((t) => [t, tickText(t, step)]) };
  }

  function categoryAxis(labels) {
    const every = Math.ceil(labels.length / MAX_LABELS);
    return { start: -0.5, end: labels.length - 0.5,
             ticks: labels.map((text, i) => [i, text]).filter(([i]) => i % every === 0) };
  }

  // ------------------------------------------------------------------ smoothing
  // TensorBoard's smoothing: an exponential moving average with weight w in [0, 1), debiased so the
  // first values are not pulled towards 0: s_t = m_t / (1 - w^n_t), m_t = w m_(t-1) + (1 - w) x_t,
  // n_t the finite values so far. Missing values (null) stay missing and do not move the average.
  function smooth(values, weight) {
    if (!(weight > 0)) return values;
    let mean = 0, count = 0;
    return values.map((v) => {
      if (!finite(v)) return v;
      mean = weight * mean + (1 - weight) * v;
      count += 1;
      return mean / (1 - Math.pow(weight, count));
    });
  }

  // The epoch whose weights early stopping keeps: the best validation score, else the lowest
  // validation loss, else the lowest training loss; null when there is none.
  function bestEpoch(epochs, { loss = [], validation_loss: validation = [], validation_score: score = [] }) {
    const pick = (values, better) => {
      let best = null;
      values.forEach((v, i) => { if (finite(v) && (best === null || better(v, values[best]))) best = i; });
      return best;
    };
    const index = [pick(score, (a, b) => a > b), pick(validation, (a, b) => a < b), pick(loss, (a, b) => a < b)]
      .find((i) => i !== null);
    return index === undefined ? null : epochs[index];
  }

  // ------------------------------------------------------------------ the chart
  // Draw `series` ([{xs, values, color, dash, points, faint}]: lines, dashed when `dash`, dots when
  // `points`, see-through when `faint`) on `canvas`. Options: logY / logX (log10 axis when every value
  // on it is positive), labels (the x values are indices into these category names), integerX
  // (whole-number x ticks: epochs), xLabel / yLabel (axis titles; a log axis says so), markers
  // ([{x, color, text}]: dotted vertical lines), empty (the text shown when there is nothing to draw).
  // The canvas records what it shows: data-points (finite points drawn), data-series (series with at
  // least one), data-xticks / data-yticks (the tick texts, JSON), data-xtitle / data-ytitle, data-markers.
  function drawChart(canvas, series, options = {}) {
    const ctx = canvas.getContext("2d");
    const W = canvas.width, H = canvas.height;
    ctx.clearRect(0, 0, W, H);
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillStyle = INK;
    const shown = series.map((s) => s.values.map((v, i) => [s.xs[i], v]).filter(([x, v]) => finite(x) && finite(v)));
    const all = shown.flat();
    canvas.dataset.points = shown.filter((_, k) => !series[k].faint).flat().length;
    canvas.dataset.series = shown.filter((points, k) => points.length > 0 && !series[k].faint).length;
    if (all.length === 0) {
      ctx.fillText(options.empty || "waiting for the first epoch", PAD.left, H / 2);
      canvas.dataset.xticks = canvas.dataset.yticks = "[]";
      return 0;
    }
    const logX = Boolean(options.logX) && all.every(([x]) => x > 0);
    const logY = Boolean(options.logY) && all.every(([, v]) => v > 0);
    const tx = logX ? Math.log10 : (x) => x;
    const ty = logY ? Math.log10 : (v) => v;
    const margin = series.some((s) => s.points) ? POINT_MARGIN : 0; // dots at the edge stay whole
    const markers = (options.markers || []).filter((m) => finite(m.x) && (!logX || m.x > 0));
    const xAxis = options.labels ? categoryAxis(options.labels)
      : axis(all.map(([x]) => tx(x)).concat(markers.map((m) => tx(m.x))), { log: logX, integer: options.integerX, margin });
    const yAxis = axis(all.map(([, v]) => ty(v)), { log: logY, margin });
    Object.assign(canvas.dataset, { xticks: JSON.stringify(xAxis.ticks.map(([, t]) => t)),
                                    yticks: JSON.stringify(yAxis.ticks.map(([, t]) => t)) });
    const plotW = W - PAD.left - PAD.right, plotH = H - PAD.top - PAD.bottom;
    const ax = (t) => PAD.left + ((t - xAxis.start) / (xAxis.end - xAxis.start)) * plotW; // axis units -> pixels
    const ay = (t) => H - PAD.bottom - ((t - yAxis.start) / (yAxis.end - yAxis.start)) * plotH;

    ctx.strokeStyle = GRID;
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const [tick, text] of yAxis.ticks) {
      ctx.beginPath(); ctx.moveTo(PAD.left, ay(tick)); ctx.lineTo(W - PAD.right, ay(tick)); ctx.stroke();
      ctx.fillText(text, PAD.left - 6, ay(tick));
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const [tick, text] of xAxis.ticks) ctx.fillText(text, ax(tick), H - PAD.bottom + 6);
    ctx.strokeStyle = AXIS;
    ctx.beginPath(); ctx.moveTo(PAD.left, PAD.top); ctx.lineTo(PAD.left, H - PAD.bottom);
    ctx.lineTo(W - PAD.right, H - PAD.bottom); ctx.stroke();
    const xTitle = options.xLabel ? options.xLabel + (logX ? " (log scale)" : "") : "";
    const yTitle = options.yLabel ? options.yLabel + (logY ? " (log scale)" : "") : "";
    drawTitles(ctx, W, H, xTitle, yTitle);
    Object.assign(canvas.dataset, { xtitle: xTitle, ytitle: yTitle });

    for (const marker of markers) {
      ctx.strokeStyle = ctx.fillStyle = marker.color || INK;
      ctx.lineWidth = 1.5;
      ctx.setLineDash(MARKER_DASH);
      ctx.beginPath(); ctx.moveTo(ax(tx(marker.x)), PAD.top); ctx.lineTo(ax(tx(marker.x)), H - PAD.bottom); ctx.stroke();
      ctx.setLineDash([]);
      if (marker.text) {
        const right = ax(tx(marker.x)) > W / 2; // the text on the side with room
        ctx.textAlign = right ? "right" : "left";
        ctx.textBaseline = "top";
        ctx.fillText(marker.text, ax(tx(marker.x)) + (right ? -4 : 4), PAD.top + 2);
      }
    }
    canvas.dataset.markers = markers.length;

    ctx.lineWidth = 2;
    shown.forEach((points, k) => {
      const s = series[k];
      ctx.strokeStyle = ctx.fillStyle = s.color;
      ctx.globalAlpha = s.faint ? RAW_ALPHA : 1;
      if (s.points) {
        for (const [x, v] of points) {
          ctx.beginPath(); ctx.arc(ax(tx(x)), ay(ty(v)), POINT_RADIUS, 0, 2 * Math.PI); ctx.fill();
        }
      } else {
        drawLine(ctx, s, Math.max(1, Math.ceil(s.values.length / (2 * plotW))), (x, v) => [ax(tx(x)), ay(ty(v))]);
      }
      ctx.globalAlpha = 1;
    });
    return all.length;
  }

  // Long runs: about two points per pixel are enough (every `stride`-th point, and the last).
  // A missing value (NaN, or not positive on a log axis) breaks the line.
  function drawLine(ctx, s, stride, at) {
    ctx.setLineDash(s.dash ? DASH : []);
    ctx.beginPath();
    let drawing = false;
    s.values.forEach((v, i) => {
      const x = s.xs[i];
      if (!finite(v) || !finite(x)) { drawing = false; return; }
      if (i % stride !== 0 && i !== s.values.length - 1) return;
      const [px, py] = at(x, v);
      if (drawing) ctx.lineTo(px, py); else ctx.moveTo(px, py);
      drawing = true;
    });
    ctx.stroke();
    ctx.setLineDash([]);
  }

  function drawTitles(ctx, W, H, xTitle, yTitle) {
    ctx.fillStyle = INK;
    ctx.textAlign = "center";
    if (xTitle) { ctx.textBaseline = "bottom"; ctx.fillText(xTitle, PAD.left + (W - PAD.left - PAD.right) / 2, H - 2); }
    if (yTitle) {
      ctx.save();
      ctx.translate(12, PAD.top + (H - PAD.top - PAD.bottom) / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textBaseline = "middle";
      ctx.fillText(yTitle, 0, 0);
      ctx.restore();
    }
  }

  const api = { fmt, short, seconds, drawChart, niceTicks, logTicks, tickText, smooth, bestEpoch, MIN_TICKS, MAX_TICKS };
  if (root.document !== undefined) root.mlpkitPlot = api;
  if (typeof module !== "undefined") module.exports = api;
  return api;
})(typeof window !== "undefined" ? window : globalThis);

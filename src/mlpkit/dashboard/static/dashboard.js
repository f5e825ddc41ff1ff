// mlpkit dashboard: poll the server's JSON a few times a second, draw the curves on <canvas>,
// and send the buttons' commands back. Plain JavaScript, no libraries, nothing loaded from elsewhere.
"use strict";

(function () {
  const POLL_MS = 250; // while a fit runs
  const SLOW_POLL_MS = 1000; // before the first fit, after the last, or when the server is gone
  const SERIES = ["step", "loss", "validation_loss", "validation_score", "learning_rate"];
  const COLORS = { loss: "#1f77b4", validation_loss: "#ff7f0e", learning_rate: "#2ca02c" };

  const history = Object.fromEntries(SERIES.map((name) => [name, []]));
  let shownParams = "";
  const $ = (id) => document.getElementById(id);

  // ------------------------------------------------------------------ numbers and text
  function fmt(value) {
    if (value === null || value === undefined || !Number.isFinite(value)) return "-";
    const size = Math.abs(value);
    if (size !== 0 && (size >= 1e5 || size < 1e-3)) return value.toExponential(3);
    return value.toPrecision(4);
  }

  function seconds(value) {
    if (!Number.isFinite(value)) return "-";
    return value < 60 ? value.toFixed(1) + " s" : Math.floor(value / 60) + " min " + Math.round(value % 60) + " s";
  }

  // ------------------------------------------------------------------ charts
  function range(values) {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
    if (lo === hi) { lo -= 0.5; hi += 0.5; }
    return [lo, hi];
  }

  function ticks(lo, hi, count) {
    const out = [];
    for (let i = 0; i <= count; i += 1) out.push(lo + ((hi - lo) * i) / count);
    return out;
  }

  // Draw lines of `series` ([{values, color}]) against xs; log10 y axis when asked and all values are positive.
  function drawChart(canvas, xs, series, wantLog) {
    const ctx = canvas.getContext("2d");
    const W = canvas.width, H = canvas.height;
    const pad = { left: 70, right: 14, top: 10, bottom: 28 };
    ctx.clearRect(0, 0, W, H);
    const all = [];
    for (const s of series) for (const v of s.values) if (v !== null && Number.isFinite(v)) all.push(v);
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillStyle = "#667";
    if (all.length === 0) {
      ctx.fillText("waiting for the first epoch", pad.left, H / 2);
      return 0;
    }
    const log = wantLog && all.every((v) => v > 0);
    const t = log ? Math.log10 : (v) => v;
    const [lo, hi] = range(all.map(t));
    const [x0, x1] = [xs[0], Math.max(xs[xs.length - 1], xs[0] + 1)];
    const px = (x) => pad.left + ((x - x0) / (x1 - x0)) * (W - pad.left - pad.right);
    const py = (v) => H - pad.bottom - ((t(v) - lo) / (hi - lo)) * (H - pad.top - pad.bottom);

    ctx.strokeStyle = "#dde";
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const tick of ticks(lo, hi, 4)) {
      const y = H - pad.bottom - ((tick - lo) / (hi - lo)) * (H - pad.top - pad.bottom);
      ctx.beginPath(); ctx.moveTo(pad.left, y); ctx.lineTo(W - pad.right, y); ctx.stroke();
      ctx.fillText(fmt(log ? Math.pow(10, tick) : tick), pad.left - 6, y);
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const tick of ticks(x0, x1, 5)) {
      ctx.fillText(String(Math.round(tick)), px(tick), H - pad.bottom + 6);
    }
    ctx.strokeStyle = "#99a";
    ctx.beginPath(); ctx.moveTo(pad.left, pad.top); ctx.lineTo(pad.left, H - pad.bottom);
    ctx.lineTo(W - pad.right, H - pad.bottom); ctx.stroke();

    // Long runs: about two points per pixel are enough (every `stride`-th epoch, and the last).
    const stride = Math.max(1, Math.ceil(xs.length / (2 * (W - pad.left - pad.right))));
    let points = 0;
    ctx.lineWidth = 2;
    for (const s of series) {
      ctx.strokeStyle = s.color;
      ctx.beginPath();
      let drawing = false;
      s.values.forEach((v, i) => {
        if (v === null || !Number.isFinite(v) || (log && v <= 0)) { drawing = false; return; }
        points += 1;
        if (i % stride !== 0 && i !== s.values.length - 1) return;
        if (drawing) ctx.lineTo(px(xs[i]), py(v)); else ctx.moveTo(px(xs[i]), py(v));
        drawing = true;
      });
      ctx.stroke();
    }
    return points;
  }

  function redraw() {
    const xs = history.step;
    $("loss-chart").dataset.points = drawChart($("loss-chart"), xs, [
      { values: history.loss, color: COLORS.loss },
      { values: history.validation_loss, color: COLORS.validation_loss },
    ], true);
    $("rate-chart").dataset.points = drawChart($("rate-chart"), xs, [
      { values: history.learning_rate, color: COLORS.learning_rate },
    ], true);
  }

  // ------------------------------------------------------------------ the page from a snapshot
  function merge(state) {
    if (state.since !== history.step.length) { // the server started over: take its history whole
      if (state.since !== 0) return false;
      for (const name of SERIES) history[name].length = 0;
    }
    for (const name of SERIES) history[name].push(...state.history[name]);
    return true;
  }

  function setStatus(text) {
    const status = $("status");
    status.textContent = text;
    status.className = "status status-" + text;
  }

  function render(state) {
    setStatus(state.status);
    $("model").textContent = state.model ? state.model + " \u00b7 fit " + state.fit : "";
    $("epoch").textContent = state.epoch;
    $("max-iter").textContent = state.max_iter === null ? "-" : state.max_iter;
    $("loss").textContent = fmt(state.latest.loss);
    $("validation-loss").textContent = fmt(state.latest.validation_loss);
    $("validation-score").textContent = fmt(state.latest.validation_score);
    $("learning-rate").textContent = fmt(state.latest.learning_rate);
    $("elapsed").textContent = seconds(state.elapsed);
    $("points").textContent = history.step.length;
    $("message").textContent = state.message;

    const live = state.status === "running" || state.status === "paused";
    const paused = state.status === "paused" || state.paused_requested;
    $("pause").disabled = !live || paused;
    $("resume").disabled = !live || !paused;
    $("stop").disabled = !live;

    for (const name of ["learning_rate_init", "momentum"]) {
      const form = $("form-" + name);
      const editable = live && name in state.editable;
      form.hidden = !editable;
      if (editable) {
        const input = $("input-" + name);
        input.placeholder = fmt(state.editable[name]);
        form.dataset.current = state.editable[name];
      }
    }

    const params = JSON.stringify(state.params);
    if (params !== shownParams) {
      shownParams = params;
      const body = $("params").tBodies[0];
      body.replaceChildren(...Object.entries(state.params).map(([name, value]) => {
        const row = document.createElement("tr");
        for (const text of [name, value]) {
          const cell = document.createElement("td");
          cell.textContent = text;
          row.appendChild(cell);
        }
        return row;
      }));
    }
  }

  async function poll() {
    let delay = POLL_MS;
    try {
      const response = await fetch("api/state?since=" + history.step.length, { cache: "no-store" });
      const state = await response.json();
      if (!response.ok) throw new Error(state.error || response.statusText);
      if (!merge(state)) { // out of step: start again from the beginning next time
        for (const name of SERIES) history[name].length = 0;
      }
      render(state);
      redraw();
      if (state.status !== "running" && state.status !== "paused" && state.status !== "stopping") delay = SLOW_POLL_MS;
    } catch (error) {
      setStatus("disconnected");
      $("message").textContent = "the dashboard's server is not answering (training over?)";
      for (const id of ["pause", "resume", "stop"]) $(id).disabled = true;
      delay = SLOW_POLL_MS;
    }
    setTimeout(poll, delay);
  }

  // ------------------------------------------------------------------ commands
  async function send(path, body) {
    try {
      const response = await fetch(path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      const answer = await response.json();
      if (!answer.ok) throw new Error(answer.error);
      $("error").textContent = "";
      render(answer.state);
      return true;
    } catch (error) {
      $("error").textContent = String(error.message || error);
      return false;
    }
  }

  for (const action of ["pause", "resume", "stop"]) {
    $(action).addEventListener("click", () => send("api/control", { action }));
  }
  for (const name of ["learning_rate_init", "momentum"]) {
    $("form-" + name).addEventListener("submit", async (event) => {
      event.preventDefault();
      const input = $("input-" + name);
      const value = Number(input.value);
      if (input.value.trim() === "" || !Number.isFinite(value)) {
        $("error").textContent = name + " must be a number";
        return;
      }
      if (await send("api/params", { [name]: value })) input.value = "";
    });
  }

  poll();
})();

// mlpkit dashboard: poll the server's JSON a few times a second, draw the curves on <canvas>,
// and send the buttons' commands back. Plain JavaScript, no libraries, nothing loaded from elsewhere.
"use strict";

(function () {
  const POLL_MS = 250; // while a fit runs
  const SLOW_POLL_MS = 1000; // before the first fit, after the last, or when the server is gone
  const LIVE = ["running", "pausing", "paused"]; // a fit the buttons can steer
  const SERIES = ["step", "loss", "validation_loss", "validation_score", "learning_rate"];
  const COLORS = { loss: "#1f77b4", validation_loss: "#ff7f0e", learning_rate: "#2ca02c" };

  const history = Object.fromEntries(SERIES.map((name) => [name, []]));
  let shownParams = "";
  const $ = (id) => document.getElementById(id);
  const { fmt, seconds, drawChart, smooth, bestEpoch } = window.mlpkitPlot;

  // ------------------------------------------------------------------ charts (plot.js)
  // The loss chart: raw curves faint behind their smoothed lines when smoothing is on, and a dotted
  // line at the best epoch (the weights early stopping keeps).
  function redraw() {
    const xs = history.step;
    const weight = Number($("smoothing").value);
    const curves = [["loss", COLORS.loss], ["validation_loss", COLORS.validation_loss]];
    const raw = weight > 0 ? curves.map(([name, color]) => ({ xs, values: history[name], color, faint: true })) : [];
    const smoothed = curves.map(([name, color]) => ({ xs, values: smooth(history[name], weight), color }));
    const best = bestEpoch(xs, history);
    $("best-epoch").textContent = best === null ? "-" : best;
    drawChart($("loss-chart"), raw.concat(smoothed), {
      logY: true, integerX: true, xLabel: "epoch", yLabel: "loss",
      markers: best === null ? [] : [{ x: best, text: "best epoch " + best }],
    });
    drawChart($("rate-chart"), [{ xs, values: history.learning_rate, color: COLORS.learning_rate }],
      { logY: true, integerX: true, xLabel: "epoch", yLabel: "learning rate" });
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

    const live = LIVE.includes(state.status);
    const paused = state.status === "paused" || state.status === "pausing";
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
      if (!LIVE.includes(state.status) && state.status !== "stopping") delay = SLOW_POLL_MS;
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

  $("smoothing").addEventListener("input", () => {
    $("smoothing-value").textContent = Number($("smoothing").value).toFixed(2);
    redraw();
  });

  poll();
})();

// mlpkit runs page: ask the server for the runs of one view (a sweep, or an estimator kind) about once
// a second, list them in a sortable table, overlay the loss curves of the selected runs (the best few
// at first) and plot the score against each parameter that varies.
// Plain JavaScript, no libraries, nothing loaded from elsewhere; the charts are plot.js's.
"use strict";

(function () {
  const POLL_MS = 1000;
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                   "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  const OTHER_RUNS = "#aab3c5"; // the score plots' dots of the runs not selected
  const LOG_SPAN = 100; // a parameter's values spanning more than two decades get a log axis

  const { fmt, short, seconds, drawChart, smooth, bestEpoch } = window.mlpkitPlot;
  const $ = (id) => document.getElementById(id);
  const collator = new Intl.Collator(undefined, { numeric: true });

  const page = {
    table: null, // the last answer of api/runs
    shown: "", // its text: the table is built again only when it changes
    sort: { group: "run", key: "id", descending: false },
    selected: new Map(), // run id -> colour, in the order chosen
    autoTick: true, // until the user ticks or unticks a run, the view's best runs are the ones ticked
    curves: new Map(), // run id -> { status, curve }: the curves fetched, and the run's status then
    view: viewFromQuery(location.search), // { kind, name }, or null: the server's default (the latest runs)
    score: "",
  };

  function viewFromQuery(search) {
    const query = new URLSearchParams(search);
    for (const kind of ["sweep", "estimator"]) if (query.get(kind)) return { kind, name: query.get(kind) };
    return null;
  }
  const viewKey = (view) => (view ? view.kind + ":" + view.name : "");
  const viewQuery = (view) => (view ? "?" + view.kind + "=" + encodeURIComponent(view.name) : "");
  const VIEW_TEXT = {
    sweep: (v) => "sweep " + v.name + " (" + v.runs + (v.runs === 1 ? " run)" : " runs)"),
    estimator: (v) => v.name + " (" + v.runs + (v.runs === 1 ? " run)" : " runs)"),
  };

  // ------------------------------------------------------------------ values and cells
  // A value as text, by its JavaScript type (parameters come as Python's JSON: null is None, arrays tuples).
  const SHOW = {
    number: (v) => short(v),
    boolean: (v) => (v ? "True" : "False"),
    string: (v) => v,
    undefined: () => "-",
    object: (v) => {
      if (v === null) return "None";
      if (Array.isArray(v)) return v.map(show).join(", "); // layer sizes 64, 32
      return JSON.stringify(v);
    },
  };
  const show = (value) => SHOW[typeof value](value);

  // Column group -> the cell's value in a row of api/runs (the server's CELLS).
  const CELLS = {
    run: (row, key) => row[key],
    param: (row, key) => row.params[key],
    score: (row, key) => row.scores[key],
  };
  // Column key -> its text (the group's below otherwise), and header names other than the key.
  const CELL_TEXT = { wall_time: seconds, name: (v) => v || "-", sweep: (v) => v || "-", trial: (v) => show(v ?? undefined) };
  const GROUP_TEXT = { run: show, param: show, score: (v) => (Number.isInteger(v) ? String(v) : fmt(v)) };
  const HEADER = { id: "run", wall_time: "time" };

  const cellText = (column, value) => (CELL_TEXT[column.key] || GROUP_TEXT[column.group])(value);

  // Sort key: a finite number for a number column, text for a text column, null when missing (sorted last).
  const SORT_KEY = {
    number: (v) => (typeof v === "number" && Number.isFinite(v) ? v : null),
    text: (v) => (v === undefined || v === null ? null : show(v)),
  };
  const ORDER = { number: (a, b) => a - b, text: (a, b) => collator.compare(a, b) };

  function sortedRuns(table) {
    const column = table.columns.find((c) => c.key === page.sort.key && c.group === page.sort.group)
      || table.columns[0];
    const keyOf = (row) => SORT_KEY[column.type](CELLS[column.group](row, column.key));
    const direction = page.sort.descending ? -1 : 1;
    return table.runs
      .map((row) => [keyOf(row), row])
      .sort(([a, rowA], [b, rowB]) => {
        if (a === null || b === null) return (a === null) - (b === null) || rowA.id - rowB.id;
        return direction * ORDER[column.type](a, b) || rowA.id - rowB.id;
      })
      .map(([, row]) => row);
  }

  // ------------------------------------------------------------------ the table
  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function header(column) {
    const sorted = column.key === page.sort.key && column.group === page.sort.group;
    const arrow = sorted ? (page.sort.descending ? " \u25bc" : " \u25b2") : "";
    const th = element("th", (HEADER[column.key] || column.key) + arrow, "sortable col-" + column.group);
    Object.assign(th.dataset, { key: column.key, group: column.group, type: column.type });
    th.setAttribute("aria-sort", sorted ? (page.sort.descending ? "descending" : "ascending") : "none");
    th.title = "sort by " + column.key + (sorted ? " (click again to reverse)" : "");
    th.addEventListener("click", () => {
      page.sort = { group: column.group, key: column.key, descending: sorted && !page.sort.descending };
      renderTable();
    });
    return th;
  }

  function runRow(row, columns) {
    const tr = element("tr", undefined, "run-" + row.status);
    tr.dataset.id = row.id;
    const pick = element("td", undefined, "pick");
    const box = element("input");
    box.type = "checkbox";
    box.checked = page.selected.has(row.id);
    box.setAttribute("aria-label", "compare run " + row.id);
    box.addEventListener("change", () => { page.autoTick = false; toggle(row.id); });
    pick.appendChild(box);
    if (page.selected.has(row.id)) {
      const swatch = element("span", undefined, "swatch");
      swatch.style.background = page.selected.get(row.id);
      pick.appendChild(swatch);
    }
    if (row.model) {  // the model as trained, preparation included: mlpkit.load(file).predict(table)
      const link = element("a", "\u2913", "model");
      link.href = "api/model?id=" + row.id;
      link.download = "run-" + row.id + ".mlpkit";
      link.title = "download run " + row.id + "'s model (mlpkit.load reads it)";
      pick.appendChild(link);
    }
    tr.appendChild(pick);
    for (const column of columns) {
      const value = CELLS[column.group](row, column.key);
      const td = element("td", cellText(column, value), column.type === "number" ? "number" : "");
      if (column.key === "status") {
        td.replaceChildren(element("span", value, "status status-" + value));
        if (row.error) td.title = row.error;
      }
      tr.appendChild(td);
    }
    return tr;
  }

  function renderTable() {
    const table = page.table;
    const head = $("runs").tHead.rows[0];
    head.replaceChildren(element("th", "compare", "pick"), ...table.columns.map(header));
    $("runs").tBodies[0].replaceChildren(...sortedRuns(table).map((row) => runRow(row, table.columns)));
    const constant = Object.entries(table.constant);
    $("constant-count").textContent = constant.length;
    $("constant").querySelector("tbody").replaceChildren(...constant.map(([name, value]) => {
      const tr = element("tr");
      tr.append(element("td", name), element("td", show(value)));
      return tr;
    }));
  }

  function fillSelect(select, options, current) { // options: [value, text] pairs
    if (JSON.stringify(options) !== select.dataset.options) {
      select.dataset.options = JSON.stringify(options);
      select.replaceChildren(...options.map(([value, text]) => {
        const option = element("option", text);
        option.value = value;
        return option;
      }));
    }
    select.value = current;
  }

  // ------------------------------------------------------------------ the charts
  function drawCurves() {
    const series = [], legend = [], markers = [];
    const weight = Number($("smoothing").value);
    let runs = 0;
    for (const [id, color] of page.selected) {
      const entry = page.curves.get(id);
      if (!entry) continue;
      const { epoch, loss, validation_loss: validation } = entry.curve;
      if (weight > 0) {
        series.push({ xs: epoch, values: loss, color, faint: true }, { xs: epoch, values: validation, color, dash: true, faint: true });
      }
      series.push({ xs: epoch, values: smooth(loss, weight), color },
                  { xs: epoch, values: smooth(validation, weight), color, dash: true });
      const best = bestEpoch(epoch, entry.curve);
      if (best !== null) markers.push({ x: best, color });
      if (loss.concat(validation).some((v) => v !== null)) runs += 1;
      const row = page.table.runs.find((r) => r.id === id);
      const item = element("li");
      const swatch = element("span", undefined, "swatch");
      swatch.style.background = color;
      const score = row && page.score in row.scores ? " \u00b7 " + page.score + " " + fmt(row.scores[page.score]) : "";
      const at = best === null ? "" : " \u00b7 best epoch " + best;
      item.append(swatch, "run " + id + (row && row.name ? " " + row.name : "") + score + at);
      legend.push(item);
    }
    const canvas = $("curves-chart");
    drawChart(canvas, series, {
      logY: true, integerX: true, xLabel: "epoch", yLabel: "loss", markers,
      empty: page.selected.size ? "no epochs recorded yet" : "tick runs in the table to compare their loss curves",
    });
    canvas.dataset.runs = runs;
    $("legend").replaceChildren(...legend);
  }

  // One small chart per varying parameter: the chosen score of each run against the parameter's value.
  function drawParamPlots() {
    const table = page.table;
    const box = $("param-plots");
    $("score-name").textContent = page.score || "score";
    if (box.dataset.params !== JSON.stringify(table.plotted)) {
      box.dataset.params = JSON.stringify(table.plotted);
      box.replaceChildren(...table.plotted.map((name) => {
        const figure = element("figure", undefined, "param-plot");
        figure.dataset.param = name;
        const canvas = element("canvas");
        Object.assign(canvas, { width: 360, height: 220 });
        canvas.setAttribute("aria-label", "score against " + name);
        figure.append(element("figcaption", name), canvas);
        return figure;
      }));
      if (table.plotted.length === 0) box.append(element("p", "no parameter differs between these runs", "note"));
    }
    const scored = table.runs.filter((row) => typeof row.scores[page.score] === "number");
    for (const figure of box.querySelectorAll("figure")) {
      const name = figure.dataset.param;
      const values = table.runs.map((row) => row.params[name]);
      const numeric = values.every((v) => typeof v === "number" || v === undefined);
      const labels = numeric ? null : [...new Set(values.map(show))].sort(collator.compare);
      const x = (row) => (numeric ? row.params[name] : labels.indexOf(show(row.params[name])));
      const positive = values.filter((v) => typeof v === "number" && v > 0);
      const logX = numeric && positive.length === values.length && Math.max(...positive) / Math.min(...positive) > LOG_SPAN;
      const dots = (rows, color) => ({ xs: rows.map(x), values: rows.map((r) => r.scores[page.score]), color, points: true });
      const series = [dots(scored.filter((r) => !page.selected.has(r.id)), OTHER_RUNS)];
      for (const [id, color] of page.selected) series.push(dots(scored.filter((r) => r.id === id), color));
      drawChart(figure.querySelector("canvas"), series,
        { logX, labels, xLabel: name, yLabel: page.score, empty: "no " + (page.score || "scores") + " yet" });
    }
  }

  // ------------------------------------------------------------------ selection and curves
  function tickOnly(ids) {
    if (JSON.stringify([...page.selected.keys()]) === JSON.stringify(ids)) return;
    page.selected.clear();
    ids.forEach((id, i) => page.selected.set(id, PALETTE[i % PALETTE.length]));
  }

  function toggle(id) {
    if (page.selected.has(id)) {
      page.selected.delete(id);
    } else {
      const used = new Set(page.selected.values());
      page.selected.set(id, PALETTE.find((c) => !used.has(c)) || PALETTE[page.selected.size % PALETTE.length]);
    }
    renderTable();
    drawParamPlots();
    refreshCurves();
  }

  // Fetch the curves of the selected runs not fetched yet, still running, or whose status changed since.
  async function refreshCurves() {
    const status = new Map(page.table.runs.map((row) => [row.id, row.status]));
    const wanted = [...page.selected.keys()].filter((id) => {
      const known = page.curves.get(id);
      return !known || known.status === "running" || known.status !== status.get(id);
    });
    if (wanted.length > 0) {
      const response = await fetch("api/curves?ids=" + wanted.join(","), { cache: "no-store" });
      const answer = await response.json();
      if (!response.ok) throw Object.assign(new Error(answer.error || response.statusText), { refused: true });
      for (const id of wanted) page.curves.set(id, { status: status.get(id), curve: answer.curves[String(id)] });
    }
    drawCurves();
  }

  // ------------------------------------------------------------------ polling
  function setStatus(text, kind) {
    $("status").textContent = text;
    $("status").className = "status status-" + kind;
  }

  function render(table) {
    page.table = table;
    page.view = table.view;
    const listed = new Set(table.runs.map((row) => row.id));
    for (const id of page.selected.keys()) if (!listed.has(id)) page.selected.delete(id);
    if (page.autoTick) tickOnly(table.best);
    fillSelect($("view"), table.views.map((v) => [viewKey(v), VIEW_TEXT[v.kind](v)]), viewKey(table.view));
    if (!table.scores.includes(page.score)) page.score = table.ranking ? table.ranking.score : table.scores[0] || "";
    fillSelect($("score"), table.scores.map((name) => [name, name]), page.score);
    $("score").disabled = table.scores.length === 0;
    const running = table.runs.filter((row) => row.status === "running").length;
    const count = table.runs.length + (table.runs.length === 1 ? " run" : " runs");
    $("count").textContent = count + (running ? " \u00b7 " + running + " running" : "");
    setStatus(running ? "running" : "up to date", running ? "running" : "finished");
    $("message").textContent = table.runs.length ? "" : "no runs recorded here yet: they appear as they start";
    renderTable();
    drawParamPlots();
  }

  async function poll() {
    try {
      const asked = page.view;
      const response = await fetch("api/runs" + viewQuery(asked), { cache: "no-store" });
      const text = await response.text();
      const answer = JSON.parse(text);
      if (!response.ok) throw Object.assign(new Error(answer.error || response.statusText), { refused: true });
      if (text !== page.shown && page.view === asked) { // (another view chosen meanwhile: its answer comes next)
        page.shown = text;
        render(answer);
      }
      await refreshCurves();
      $("error").textContent = "";
    } catch (error) { // refused: the server answered no (the message says why); else it is gone
      if (error.refused) setStatus("error", "closed"); else setStatus("disconnected", "disconnected");
      $("error").textContent = String(error.message || error);
    }
    setTimeout(poll, POLL_MS);
  }

  $("view").addEventListener("change", () => {
    const [kind, ...name] = $("view").value.split(":");
    page.view = { kind, name: name.join(":") };
    history.replaceState(null, "", location.pathname + viewQuery(page.view));
    page.shown = "";
    page.autoTick = true; // a new view opens on its best runs, by its ranking score
    page.selected.clear();
    page.score = "";
  });
  $("smoothing").addEventListener("input", () => {
    $("smoothing-value").textContent = Number($("smoothing").value).toFixed(2);
    drawCurves();
  });
  $("score").addEventListener("change", () => {
    page.score = $("score").value;
    drawParamPlots();
    drawCurves();
  });

  poll();
})();

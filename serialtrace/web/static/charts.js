/* Charts for the quality pages, drawn with the vendored Chart.js (vendor/chart.umd.min.js, loaded first).

   A page puts the data in a non-executed JSON element and points a canvas at it; the canvas sits in a
   sized container (Chart.js fills its parent), and the page's table stays the text alternative:

     <div class="chart"><canvas data-chart="funnel" data-source="batch-funnel" role="img"
          aria-label="..."></canvas></div>
     <script type="application/json" id="batch-funnel">{...}</script>
     <script src=".../vendor/chart.umd.min.js"></script><script src=".../charts.js"></script>

   Numbers are formatted in the page's language (<html lang>). Rates are fractions (0.05 = 5 %).

   data-chart="funnel": claim rate against units shipped, one point per row.
     {"points": [{"name": "B-7 (SKU-1)", "units": 120, "claims": 9, "rate": 0.075, "flagged": true,
                  "url": "/quality/batches/7" or null}],
      "pooled": 0.012,                                   // pooled rate, drawn as a line
      "limits": [{"units": 10, "low95": 0, "high95": 0.08, "low998": 0, "high998": 0.12}, ...],
                                                         // control limits per n, ascending units
      "log_units": false,                                // optional: logarithmic units axis
      "text": {"x": "Units shipped", "y": "Claim rate", "rows": "Rows", "flagged": "Flagged",
               "pooled": "Pooled rate", "limit95": "95% limits", "limit998": "99.8% limits",
               "units": "Units", "claims": "Claims", "rate": "Rate"}}
     Drawn as datasets 0 (rows within chance) and 1 (flagged: red, larger triangles), each point {x, y, row};
     clicking a point with a url opens it.

   data-chart="bar" | "line" | "scatter": a generic spec; datasets may mix types (Pareto bars + line).
     {"labels": ["Cracked housing", ...],                // category axis (bar, line); omit for x/y data
      "datasets": [{"label": "Claims", "data": [12, 7, ...] or [{"x": 1.5, "y": 0.2, "name": "U-1"}],
                    "type": "bar" | "line" | "scatter",  // optional, defaults to the chart's kind
                    "axis": "y" | "y2",                  // optional, y2 is a second axis on the right
                    "color": "#1f5f99",                  // optional, else from the palette
                    "dashed": false, "points": true,     // optional line styling
                    "show_line": false,                  // optional, joins scatter points
                    "fill": false | "origin" | "-1" | "+1"}],  // optional, "-1" shades to the dataset before
      "x": {"title": "Months in service", "log": false, "percent": false, "min": null, "max": null},
      "y": {"title": "Claims", "log": false, "percent": false, "min": 0, "max": null, "stacked": false},
      "y2": {"title": "Cumulative", "percent": true, "min": 0, "max": 1},   // optional
      "legend": true}                                    // optional, default true
     A Weibull plot is a scatter with "log": true axes; a forecast is lines whose bounds fill between them.

   window.serialtraceCharts = {draw(canvas), charts} where charts maps each canvas id (or data-source) to
   its Chart instance. */
(function () {
  "use strict";
  if (!window.Chart) { return; }
  var Chart = window.Chart;
  var lang = document.documentElement.lang || undefined;
  var PALETTE = ["#1f5f99", "#d97a00", "#2e7d32", "#6a4c93", "#00838f", "#8d6e63", "#5c6bc0"];
  var RED = "#c62828", GREY = "#555";
  var charts = {};

  var numberFormat = new Intl.NumberFormat(lang, {maximumFractionDigits: 3});
  var percentFormat = new Intl.NumberFormat(lang, {style: "percent", maximumFractionDigits: 2});
  function num(value) { return value === null || value === undefined ? "" : numberFormat.format(value); }
  function pct(value) { return value === null || value === undefined ? "" : percentFormat.format(value); }

  function readJson(id) {
    var el = id && document.getElementById(id);
    if (!el) { return null; }
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  function base() {
    return {
      animation: false, responsive: true, maintainAspectRatio: false, locale: lang,
      interaction: {mode: "nearest", intersect: true},
      plugins: {legend: {display: true, position: "bottom"}}
    };
  }

  function axis(spec, fallback) {
    spec = spec || {};
    var out = {type: spec.log ? "logarithmic" : fallback, title: {display: !!spec.title, text: spec.title || ""}};
    if (spec.min !== undefined && spec.min !== null) { out.min = spec.min; }
    if (spec.max !== undefined && spec.max !== null) { out.max = spec.max; }
    if (spec.stacked) { out.stacked = true; }
    if (spec.percent) { out.ticks = {callback: function (value) { return pct(value); }}; }
    else if (fallback !== "category" && !spec.log) { out.ticks = {callback: function (value) { return num(value); }}; }
    return out;
  }

  function funnel(data) {
    var t = data.text || {};
    var points = data.points || [];
    var limits = data.limits || [];
    function curve(key) { return limits.map(function (l) { return {x: l.units, y: l[key]}; }); }
    function limitLine(label, key, color, dash) {
      return {type: "line", label: label, data: curve(key), borderColor: color, borderWidth: 1.5,
              borderDash: dash, pointRadius: 0, pointHitRadius: 0, pointStyle: "line", fill: false, tension: 0};
    }
    var xs = limits.map(function (l) { return l.units; });
    var ends = xs.length ? [Math.min.apply(null, xs), Math.max.apply(null, xs)] : [];
    function rows(flagged) {
      return points.filter(function (p) { return !!p.flagged === flagged; })
        .map(function (p) { return {x: p.units, y: p.rate, row: p}; });
    }
    function rowAt(chart, element) {
      var item = chart.data.datasets[element.datasetIndex].data[element.index];
      return item && item.row;
    }
    var datasets = [
      {type: "scatter", label: t.rows || "", data: rows(false), backgroundColor: PALETTE[0],
       borderColor: PALETTE[0], pointRadius: 4, pointHoverRadius: 6, pointStyle: "circle"},
      {type: "scatter", label: t.flagged || "", data: rows(true), backgroundColor: RED, borderColor: RED,
       pointRadius: 7, pointHoverRadius: 9, pointStyle: "triangle"},
      {type: "line", label: t.pooled || "", data: ends.map(function (x) { return {x: x, y: data.pooled}; }),
       borderColor: GREY, borderWidth: 1.5, pointRadius: 0, pointHitRadius: 0, pointStyle: "line", fill: false},
      limitLine(t.limit95 || "", "high95", PALETTE[1], [6, 4]),
      limitLine(t.limit95 || "", "low95", PALETTE[1], [6, 4]),
      limitLine(t.limit998 || "", "high998", RED, [2, 3]),
      limitLine(t.limit998 || "", "low998", RED, [2, 3])
    ];
    var options = base();
    options.scales = {
      x: axis({title: t.x, log: !!data.log_units}, "linear"),
      y: axis({title: t.y, percent: true, min: 0}, "linear")
    };
    options.plugins.legend.labels = {usePointStyle: true, filter: function (item) {
      // Upper and lower limits share a label: one legend entry each.
      return item.datasetIndex !== 4 && item.datasetIndex !== 6;
    }};
    options.plugins.tooltip = {
      filter: function (item) { return !!(item.raw && item.raw.row); },
      callbacks: {
        title: function (items) { return items.length ? items[0].raw.row.name : ""; },
        label: function (item) {
          var row = item.raw.row;
          var lines = [(t.rate || "") + ": " + pct(row.rate), (t.units || "") + ": " + num(row.units)];
          if (row.claims !== undefined) { lines.push((t.claims || "") + ": " + num(row.claims)); }
          if (row.flagged) { lines.push(t.flagged || ""); }
          return lines;
        }
      }
    };
    options.onClick = function (event, elements, chart) {
      for (var i = 0; i < elements.length; i++) {
        var row = rowAt(chart, elements[i]);
        if (row && row.url) { window.location.assign(row.url); return; }
      }
    };
    options.onHover = function (event, elements, chart) {
      var link = elements.some(function (e) { var row = rowAt(chart, e); return row && row.url; });
      event.native.target.style.cursor = link ? "pointer" : "default";
    };
    return {type: "scatter", data: {datasets: datasets}, options: options};
  }

  function generic(kind, spec) {
    var hasY2 = !!spec.y2;
    var categories = !!spec.labels;
    var datasets = (spec.datasets || []).map(function (d, i) {
      var color = d.color || PALETTE[i % PALETTE.length];
      var type = d.type || kind;
      var out = {type: type, label: d.label || "", data: d.data || [], yAxisID: d.axis === "y2" ? "y2" : "y",
                 borderColor: color, backgroundColor: type === "bar" ? color : color + "33",
                 fill: d.fill === undefined ? false : d.fill, borderDash: d.dashed ? [6, 4] : [],
                 order: type === "bar" ? 2 : 1};
      if (type === "line") { out.pointRadius = d.points === false ? 0 : 3; out.tension = 0; }
      if (type === "scatter") { out.showLine = !!d.show_line; out.pointBackgroundColor = color; }
      return out;
    });
    var options = base();
    options.plugins.legend.display = spec.legend !== false;
    options.scales = {
      x: axis(spec.x, categories ? "category" : "linear"),
      y: axis(spec.y, "linear")
    };
    if (hasY2) {
      options.scales.y2 = axis(spec.y2, "linear");
      options.scales.y2.position = "right";
      options.scales.y2.grid = {drawOnChartArea: false};
    }
    function formatted(scaleId, value) {
      var s = scaleId === "y2" ? spec.y2 : (scaleId === "x" ? spec.x : spec.y);
      return s && s.percent ? pct(value) : num(value);
    }
    options.plugins.tooltip = {callbacks: {
      title: function (items) {
        if (!items.length) { return ""; }
        var raw = items[0].raw;
        if (raw && typeof raw === "object" && raw.name) { return raw.name; }
        return categories ? items[0].label : formatted("x", items[0].parsed.x);
      },
      label: function (item) {
        var value = formatted(item.dataset.yAxisID, item.parsed.y);
        var prefix = item.dataset.label ? item.dataset.label + ": " : "";
        return categories ? prefix + value : prefix + formatted("x", item.parsed.x) + ", " + value;
      }
    }};
    return {type: kind === "scatter" ? "scatter" : (kind === "line" ? "line" : "bar"),
            data: {labels: spec.labels, datasets: datasets}, options: options};
  }

  function draw(canvas) {
    var kind = canvas.getAttribute("data-chart");
    var key = canvas.id || canvas.getAttribute("data-source");
    var data = readJson(canvas.getAttribute("data-source"));
    if (!data) { return null; }
    var config;
    if (kind === "funnel") { config = funnel(data); }
    else if (kind === "bar" || kind === "line" || kind === "scatter") { config = generic(kind, data); }
    else { return null; }
    var existing = Chart.getChart(canvas);
    if (existing) { existing.destroy(); }
    charts[key] = new Chart(canvas, config);
    return charts[key];
  }

  function drawAll() {
    var canvases = document.querySelectorAll("canvas[data-chart]");
    for (var i = 0; i < canvases.length; i++) { draw(canvases[i]); }
  }

  function resizeAll() {
    Object.keys(charts).forEach(function (key) { charts[key].resize(); });
  }

  // The print layout sizes .chart for the page; redraw at that size, and back afterwards.
  window.addEventListener("beforeprint", resizeAll);
  window.addEventListener("afterprint", resizeAll);
  if (window.matchMedia) {
    var print = window.matchMedia("print");
    var onChange = function (e) { if (e.matches) { resizeAll(); } };
    if (print.addEventListener) { print.addEventListener("change", onChange); }
  }

  drawAll();
  window.serialtraceCharts = {draw: draw, charts: charts};
}());

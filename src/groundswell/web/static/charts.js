// Charts for every room: any element <div class="chart" data-chart='JSON'> is drawn with the
// vendored uPlot, also after htmx swaps it in. JSON:
//   {"x": [unix seconds...], "series": [{"label": "...", "values": [...]}],
//    "band": {"label": "...", "lower": [...], "upper": [...]},   (optional: a shaded range)
//    "markers": [unix seconds...],                               (optional: vertical lines)
//    "height": 240, "y_label": "..."}                            (optional)
// A chart with no points says so in words instead of drawing empty axes.
(function () {
  "use strict";
  var COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];

  function markersPlugin(markers) {
    return {
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = "#dc2626";
          ctx.lineWidth = 2 * (window.devicePixelRatio || 1);
          ctx.setLineDash([6, 4]);
          markers.forEach(function (t) {
            var x = u.valToPos(t, "x", true);
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
          });
          ctx.restore();
        }]
      }
    };
  }

  function draw(el) {
    if (el.dataset.drawn === "1" || typeof window.uPlot === "undefined") return;
    var spec;
    try { spec = JSON.parse(el.dataset.chart || "{}"); } catch (e) { el.textContent = "Chart data is not valid."; return; }
    var xs = spec.x || [];
    el.dataset.drawn = "1";
    el.innerHTML = "";
    if (!xs.length) {
      var p = document.createElement("p");
      p.className = "empty";
      p.textContent = spec.empty || "No data in this period yet.";
      el.appendChild(p);
      return;
    }
    var data = [xs];
    var series = [{}];
    var bands = [];
    if (spec.band) {
      data.push(spec.band.upper, spec.band.lower);
      series.push({ label: (spec.band.label || "expected") + " (high)", stroke: "rgba(100,116,139,.4)", width: 1 });
      series.push({ label: (spec.band.label || "expected") + " (low)", stroke: "rgba(100,116,139,.4)", width: 1 });
      bands.push({ series: [1, 2], fill: "rgba(100,116,139,.15)" });
    }
    (spec.series || []).forEach(function (s, i) {
      data.push(s.values);
      series.push({ label: s.label, stroke: s.color || COLORS[i % COLORS.length], width: 2 });
    });
    var width = Math.max(280, el.clientWidth || el.parentNode.clientWidth || 600);
    var opts = {
      width: width,
      height: spec.height || 240,
      series: series,
      bands: bands,
      axes: [{}, { label: spec.y_label || "" }],
      plugins: spec.markers && spec.markers.length ? [markersPlugin(spec.markers)] : []
    };
    var plot = new window.uPlot(opts, data, el);
    el._plot = plot;
  }

  function drawAll(root) {
    (root || document).querySelectorAll(".chart[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:load", function (evt) { drawAll(evt.target); });
  window.addEventListener("resize", function () {
    document.querySelectorAll(".chart[data-chart]").forEach(function (el) {
      if (el._plot) el._plot.setSize({ width: Math.max(280, el.clientWidth), height: el._plot.height });
    });
  });
})();

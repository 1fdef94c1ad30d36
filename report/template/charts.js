// Draws the report's charts from the JSON block #maildiag-charts. Data
// strings are never evaluated: the options are parsed with JSON.parse, and
// the tooltip is built from escaped text, since ECharts' tooltips are HTML.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");
  var data = document.getElementById("maildiag-charts");
  if (!data || typeof echarts === "undefined") {
    return;
  }
  var specs = JSON.parse(data.textContent);
  var ents = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) { return ents[c]; });
  }
  function number(v) {
    if (v === null || v === undefined || v === "-") {
      return "–";
    }
    return typeof v === "number" ? v.toLocaleString("en-US") : String(v);
  }
  function tooltip(units, display) {
    return function (params) {
      var ps = [].concat(params);
      if (!ps.length) {
        return "";
      }
      var head = ps[0].axisValueLabel !== undefined ? ps[0].axisValueLabel : ps[0].name;
      var lines = ["<strong>" + esc(head) + "</strong>"];
      ps.forEach(function (p) {
        var v = p.value;
        if (v !== null && typeof v === "object" && "value" in v) {
          v = v.value;
        }
        var shown = number(v) + (units[p.seriesIndex] || "");
        if (display && display[p.seriesIndex] && display[p.seriesIndex][p.dataIndex] !== undefined) {
          shown = display[p.seriesIndex][p.dataIndex];
        }
        // p.marker is ECharts' own coloured dot, built from our palette.
        lines.push(p.marker + esc(p.seriesName) + ": " + esc(shown));
      });
      return lines.join("<br>");
    };
  }
  // The page's theme colours (light, or dark from prefers-color-scheme),
  // so that the charts' text and lines read on the page's background.
  var css = getComputedStyle(root);
  var ink = css.getPropertyValue("--ink").trim() || "#1f2937";
  var muted = css.getPropertyValue("--muted").trim() || "#64748b";
  var line = css.getPropertyValue("--line").trim() || "#e2e8f0";
  function theme(opt) {
    opt.textStyle = Object.assign(opt.textStyle || {}, { color: ink });
    [].concat(opt.legend || []).forEach(function (l) {
      l.textStyle = Object.assign(l.textStyle || {}, { color: ink });
      l.pageTextStyle = Object.assign(l.pageTextStyle || {}, { color: ink });
    });
    [].concat(opt.xAxis || [], opt.yAxis || []).forEach(function (ax) {
      ax.axisLabel = Object.assign(ax.axisLabel || {}, { color: ink });
      ax.nameTextStyle = Object.assign(ax.nameTextStyle || {}, { color: muted });
      ax.axisLine = Object.assign(ax.axisLine || {}, { lineStyle: Object.assign((ax.axisLine || {}).lineStyle || {}, { color: muted }) });
      ax.splitLine = Object.assign(ax.splitLine || {}, { lineStyle: Object.assign((ax.splitLine || {}).lineStyle || {}, { color: line }) });
    });
  }
  var charts = [];
  specs.forEach(function (s) {
    var el = document.getElementById(s.id);
    if (!el) {
      return;
    }
    var opt = s.option;
    opt.tooltip = opt.tooltip || {};
    opt.tooltip.formatter = tooltip(s.units || [], s.display);
    opt.tooltip.confine = true;
    if (s.labelWidth) {
      [].concat(opt.yAxis || []).forEach(function (ax) {
        if (ax.type === "category") {
          ax.axisLabel = Object.assign(ax.axisLabel || {}, { width: s.labelWidth, overflow: "truncate" });
        }
      });
    }
    // On a phone a wrapped legend would run into the plot: one scrolling
    // line instead.
    if (el.clientWidth < 560 && opt.legend) {
      [].concat(opt.legend).forEach(function (l) { l.type = "scroll"; });
      [].concat(opt.grid || []).forEach(function (g) { g.top = Math.min(parseInt(g.top, 10) || 40, 40); });
    }
    theme(opt);
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(opt);
    charts.push(chart);
  });
  function resize() {
    charts.forEach(function (c) { c.resize(); });
  }
  window.addEventListener("resize", resize);
  // Printing changes the page width: redraw to fit the paper once the
  // print layout applies, and back after. The print CSS scales the canvas
  // in case a browser prints before the redraw.
  window.addEventListener("beforeprint", resize);
  window.addEventListener("afterprint", resize);
  if (window.matchMedia) {
    var print = window.matchMedia("print");
    if (print.addEventListener) {
      print.addEventListener("change", resize);
    }
  }
  window.maildiagCharts = charts;
  root.setAttribute("data-charts", String(charts.length));
})();

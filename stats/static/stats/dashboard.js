/* Draw each figure of the dashboard from its own table (progressive enhancement: the
   tables are the page; without JavaScript or ECharts they stay as they are). */
(function () {
  "use strict";
  if (typeof echarts === "undefined") { return; }

  function table(section) {
    var columns = Array.prototype.map.call(section.querySelectorAll("thead th"), function (th) {
      return th.textContent;
    });
    var rows = [];
    section.querySelectorAll("tbody tr").forEach(function (tr) {
      var cells = tr.querySelectorAll("td");
      if (cells.length !== columns.length) { return; }  // the "nothing to show" row
      rows.push(Array.prototype.map.call(cells, function (td) { return td.textContent; }));
    });
    return { columns: columns, rows: rows };
  }

  var MAX_BARS = 25;

  function number(text) { return text === "" ? null : Number(text); }

  function unique(values) {
    return values.filter(function (v, i) { return values.indexOf(v) === i; });
  }

  var draw = {
    heatmap: function (t, extra) {
      var layers = unique(t.rows.map(function (r) { return r[0]; }));
      var states = unique(t.rows.map(function (r) { return r[1]; })).sort();
      var max = Math.max.apply(null, [1].concat(t.rows.map(function (r) { return number(r[2]); })));
      var option = {
        tooltip: { position: "top" },
        grid: { left: 110, right: 20, top: 10, bottom: 90 },
        xAxis: { type: "category", data: states, axisLabel: { rotate: 60 } },
        yAxis: { type: "category", data: layers },
        visualMap: { min: 0, max: max, calculable: true, orient: "horizontal", left: "center", bottom: 0 },
        series: [{
          type: "heatmap", name: "Verified suppliers", label: { show: true },
          data: t.rows.map(function (r) {
            return [states.indexOf(r[1]), layers.indexOf(r[0]), number(r[2])];
          })
        }]
      };
      return option;
    },
    bar: function (t) {
      // The chart shows the first MAX_BARS rows (the largest: tables come sorted); the
      // table below it lists them all.
      if (t.rows.length > MAX_BARS) { t = { columns: t.columns, rows: t.rows.slice(0, MAX_BARS) }; }
      var valueColumn = t.columns.findIndex(function (c, i) {
        return i > 0 && t.rows.length && t.rows.every(function (r) { return r[i] !== "" && !isNaN(Number(r[i])); });
      });
      var labels = t.rows.map(function (r) { return t.columns[1] === "State" ? r[0] + " (" + r[1] + ")" : r[0]; });
      return {
        tooltip: { trigger: "axis" },
        grid: { left: 260, right: 30, top: 10, bottom: 30 },
        xAxis: { type: "value" },
        yAxis: { type: "category", data: labels.slice().reverse(), axisLabel: { width: 250, overflow: "truncate" } },
        series: [{ type: "bar", name: t.columns[valueColumn],
                   data: t.rows.map(function (r) { return number(r[valueColumn]); }).reverse() }]
      };
    },
    shares: function (t, extra) {
      var months = t.rows.filter(function (r) { return r[0] !== "All"; });
      var ref = (extra && extra.reference) || {};
      function line(name, index, target, position) {
        return {
          type: "line", name: name, connectNulls: true,
          data: months.map(function (r) { return number(r[index]); }),
          markLine: { symbol: "none",
                      label: { formatter: name + " " + target + "%", position: position },
                      data: [{ yAxis: target }] }
        };
      }
      return {
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 50, right: 30, top: 40, bottom: 30 },
        xAxis: { type: "category", data: months.map(function (r) { return r[0]; }) },
        yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
        series: [
          line("Micro and small", 2, ref.micro_small, "insideEndTop"),
          line("Women-owned", 3, ref.women_owned, "insideStartBottom"),
          line("SC/ST-owned", 4, ref.sc_st_owned, "insideEndTop")
        ]
      };
    },
    funnel: function (t) {
      return {
        tooltip: { trigger: "item" },
        series: [{
          type: "funnel", sort: "none", left: "10%", width: "80%", minSize: "2%",
          label: { formatter: "{b}: {c}" },
          data: t.rows.map(function (r) { return { name: r[0], value: number(r[1]) }; })
        }]
      };
    }
  };

  document.querySelectorAll("section.figure").forEach(function (section) {
    var kind = section.getAttribute("data-chart");
    var holder = section.querySelector(".chart");
    if (!holder || !draw[kind]) { return; }
    var script = document.getElementById(section.getAttribute("data-slug"));
    var extra = script ? JSON.parse(script.textContent) : {};
    var t = table(section);
    if (!t.rows.length) { holder.style.display = "none"; return; }
    if (kind === "bar") { holder.style.height = Math.max(200, 26 * Math.min(t.rows.length, MAX_BARS) + 60) + "px"; }
    var chart = echarts.init(holder, null, { renderer: "svg" });
    chart.setOption(draw[kind](t, extra));
    if (kind === "heatmap" && extra.plants && extra.plants.length) {
      var plantHolder = document.createElement("div");
      plantHolder.className = "chart plants";
      holder.parentNode.insertBefore(plantHolder, holder.nextSibling);
      echarts.init(plantHolder, null, { renderer: "svg" }).setOption({
        title: { text: "Magnet plants (longitude, latitude)", textStyle: { fontSize: 13 } },
        tooltip: { formatter: function (p) { return p.data[2]; } },
        xAxis: { type: "value", min: 68, max: 98, name: "lon" },
        yAxis: { type: "value", min: 6, max: 38, name: "lat" },
        series: [{ type: "scatter", symbolSize: 12,
                   data: extra.plants.map(function (p) { return [p.longitude, p.latitude, p.name]; }) }]
      });
    }
    section.setAttribute("data-rendered", "true");
    window.addEventListener("resize", function () { chart.resize(); });
  });
  document.body.setAttribute("data-charts-ready", "true");
})();

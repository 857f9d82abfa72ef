/* The daily chart of the statistics page: uploads per day as bars, first-time uploaders per day
 * as a line, drawn as SVG by hand (no library).
 *
 * No inline script (a strict Content-Security-Policy): the page gives the days and the
 * translated names in the data-chart attribute of #daily-chart, and a table of the same figures
 * for readers without JavaScript. First-time uploaders of a day are among that day's uploaders,
 * so both series share one scale.
 */
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var WIDTH = 800, HEIGHT = 260;
  var MARGIN = { top: 16, right: 12, bottom: 44, left: 48 };
  var UPLOADS = "#1f6f50", JOINERS = "#c0671c", GRID = "#dfe3e8", INK = "#5f6b7a";
  var MAX_LABELS = 12;

  function element(name, attributes, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    if (parent) { parent.appendChild(node); }
    return node;
  }

  function text(content, attributes, parent) {
    var node = element("text", attributes, parent);
    node.textContent = content;
    return node;
  }

  // A step of 1, 2 or 5 times a power of ten (whole numbers only) giving at most 5 grid lines,
  // and the round top of the scale.
  function scale(max) {
    if (max <= 0) { return { top: 1, step: 1 }; }
    var power = Math.pow(10, Math.floor(Math.log10(max)));
    var steps = [0.1, 0.2, 0.5, 1, 2, 5, 10].map(function (m) { return m * power; });
    var step = Math.max(1, steps.find(function (s) { return max / s <= 5; }));
    return { top: Math.ceil(max / step) * step, step: step };
  }

  function draw(figure) {
    var data = JSON.parse(figure.getAttribute("data-chart"));
    var days = data.days;
    if (!days.length) { return; }
    var numbers = new Intl.NumberFormat(document.documentElement.lang || undefined);
    var plotWidth = WIDTH - MARGIN.left - MARGIN.right;
    var plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
    var max = Math.max.apply(null, days.map(function (d) { return d.uploads; }));
    var y = scale(max);
    var slot = plotWidth / days.length;
    var barWidth = Math.max(1, slot * 0.7);

    function yOf(value) { return MARGIN.top + plotHeight - (value / y.top) * plotHeight; }
    function xOf(index) { return MARGIN.left + slot * index + slot / 2; }

    var svg = element("svg", {
      viewBox: "0 0 " + WIDTH + " " + HEIGHT, width: "100%", role: "img",
      "aria-label": figure.getAttribute("aria-label") || ""
    });

    for (var tick = 0; tick <= y.top; tick += y.step) {
      element("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: yOf(tick), y2: yOf(tick),
                        stroke: GRID, "stroke-width": 1 }, svg);
      text(numbers.format(tick), { x: MARGIN.left - 6, y: yOf(tick) + 4, "text-anchor": "end",
                                   "font-size": 11, fill: INK }, svg);
    }

    var every = Math.ceil(days.length / MAX_LABELS);
    days.forEach(function (day, index) {
      var bar = element("rect", {
        x: xOf(index) - barWidth / 2, y: yOf(day.uploads), width: barWidth,
        height: Math.max(0, yOf(0) - yOf(day.uploads)), fill: UPLOADS, "data-date": day.date
      }, svg);
      text(day.label + ": " + data.names.uploads + " " + numbers.format(day.uploads) + ", " +
           data.names.joiners + " " + numbers.format(day.joiners), {}, element("title", {}, bar));
      if (index % every === 0) {
        text(day.label, { x: xOf(index), y: HEIGHT - MARGIN.bottom + 16, "text-anchor": "middle",
                          "font-size": 11, fill: INK }, svg);
      }
    });

    element("polyline", {
      points: days.map(function (d, i) { return xOf(i) + "," + yOf(d.joiners); }).join(" "),
      fill: "none", stroke: JOINERS, "stroke-width": 2
    }, svg);
    days.forEach(function (day, index) {
      element("circle", { cx: xOf(index), cy: yOf(day.joiners), r: 2.5, fill: JOINERS }, svg);
    });

    var legendY = HEIGHT - 10;
    element("rect", { x: MARGIN.left, y: legendY - 9, width: 10, height: 10, fill: UPLOADS }, svg);
    text(data.names.uploads, { x: MARGIN.left + 14, y: legendY, "font-size": 12, fill: INK }, svg);
    element("line", { x1: MARGIN.left + 150, x2: MARGIN.left + 166, y1: legendY - 4, y2: legendY - 4,
                      stroke: JOINERS, "stroke-width": 2 }, svg);
    text(data.names.joiners, { x: MARGIN.left + 170, y: legendY, "font-size": 12, fill: INK }, svg);

    figure.appendChild(svg);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var figure = document.getElementById("daily-chart");
    if (figure) { draw(figure); }
  });
})();

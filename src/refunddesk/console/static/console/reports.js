/* The reports page's charts (console/reports/index.html), drawn by the vendored ECharts
   from the figures the page embeds; in a file because the Content-Security-Policy refuses
   inline scripts. Each chart is

     <div class="chart" data-chart="ID" role="img" aria-label="…"></div>
     <script id="ID" type="application/json">SPEC</script>      ({{ spec|json_script:ID }})

   with SPEC = reports.tables.Chart.spec():
     type        "line" | "bar" | "stacked_bar" | "hbar" | "pie"
     categories  the x labels ("YYYY-MM-DD" days are shown as dates), or a pie's slice names
     series      [{name, data: [number | null, …]}, …], one value per category (a pie: one series)
     unit        "count" | "percent" (0–100) | "hours" | "amount" (major units of `currency`)
     currency    ISO 4217 code, with unit "amount"
     empty       the text shown instead of a chart when no value is other than null or 0
                 (the same test as Chart.has_data)

   Once drawn (or replaced by its `empty` text) the div gets data-drawn="true"; an empty one
   also data-empty="true". Without JavaScript, or if a spec cannot be drawn, the table beside
   each chart still has every number.

   Two things keep ECharts inside the policy: the SVG renderer (sharp in print) styles its
   elements through the CSSOM, which the policy allows, and tooltips are drawn as rich text in
   the SVG, because HTML tooltips carry style="" attributes the policy refuses. */
(() => {
  "use strict";

  const TYPES = new Set(["line", "bar", "stacked_bar", "hbar", "pie"]);
  const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
  const FONT = 'system-ui, -apple-system, "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif';
  const PALETTE = ["#1f6feb", "#e08a00", "#1a7f37", "#cf222e", "#8250df", "#0a8f8f", "#bf3989", "#6e7781"];
  // Paper width for printing: A4 or Letter in portrait, less the margins, in CSS pixels. The
  // print stylesheet scales the drawing to the page's real width from there.
  const PRINT_WIDTH = 680;
  // An hbar is as high as its categories (reasons, products) need: a few bars are not
  // stretched over the usual 320px, many are not squeezed into it.
  const hbarHeight = (count) => Math.max(180, count * 28 + 70);

  const language = document.documentElement.lang || "en";
  const isChinese = language.toLowerCase().startsWith("zh");
  const charts = new Map();  // div → {chart, observer}
  let isPrinting = false;

  function numberFormat(options) {
    try {
      return new Intl.NumberFormat(language, options);
    } catch (error) {  // an unknown language or currency code: still show the number
      return new Intl.NumberFormat("en", {maximumFractionDigits: options.maximumFractionDigits});
    }
  }

  function dateFormat(options) {
    try {
      return new Intl.DateTimeFormat(language, {...options, timeZone: "UTC"});
    } catch (error) {
      return new Intl.DateTimeFormat("en", {...options, timeZone: "UTC"});
    }
  }

  // Two ways to write a value of the spec's unit: short on an axis, exact in a tooltip.
  function formatters(spec) {
    let axis;
    let exact;
    if (spec.unit === "percent") {  // data are 0–100, Intl wants a fraction
      const short = numberFormat({style: "percent", maximumFractionDigits: 0});
      const long = numberFormat({style: "percent", maximumFractionDigits: 1});
      axis = (value) => short.format(value / 100);
      exact = (value) => long.format(value / 100);
    } else if (spec.unit === "hours") {  // "5h" / "5小时"
      const format = numberFormat({style: "unit", unit: "hour", unitDisplay: "narrow",
                                   maximumFractionDigits: 1});
      axis = exact = (value) => format.format(value);
    } else if (spec.unit === "amount" && spec.currency) {
      const short = numberFormat({style: "currency", currency: spec.currency,
                                  notation: "compact", maximumFractionDigits: 1});
      const long = numberFormat({style: "currency", currency: spec.currency});
      axis = (value) => short.format(value);
      exact = (value) => long.format(value);
    } else {
      const format = numberFormat({maximumFractionDigits: 1});
      axis = exact = (value) => format.format(value);
    }
    const shown = (value) => (typeof value === "number" && Number.isFinite(value) ? exact(value) : "—");
    return {axis, shown};
  }

  // Days ("2026-11-01") as dates in the page's language: short under the axis, in full in
  // the tooltip. Any other category is shown as it is.
  function categoryLabels(categories) {
    const days = categories.map((category) => DAY.exec(String(category)));
    if (categories.length === 0 || days.some((match) => match === null)) {
      const names = categories.map(String);
      return {names, short: names};
    }
    const stamps = days.map(([, year, month, day]) => Date.UTC(+year, +month - 1, +day));
    const long = dateFormat({dateStyle: "medium"});
    const short = dateFormat({month: "numeric", day: "numeric"});
    return {names: stamps.map((stamp) => long.format(stamp)),
            short: stamps.map((stamp) => short.format(stamp))};
  }

  function hasData(spec) {
    return spec.categories.length > 0 && spec.series.some(
      (series) => series.data.some((value) => value !== null && value !== 0));
  }

  function cssValue(style, name, fallback) {
    return style.getPropertyValue(name).trim() || fallback;
  }

  // The console's colours (console.css, site.css) and the chart palette of reports.css.
  function look(element) {
    const style = getComputedStyle(element);
    return {
      ink: cssValue(style, "--ink", "#1d2433"),
      muted: cssValue(style, "--muted", "#5b6475"),
      line: cssValue(style, "--line", "#d8dee8"),
      paper: cssValue(style, "--paper", "#fff"),
      font: cssValue(style, "--chart-font", FONT),
      palette: PALETTE.map((colour, n) => cssValue(style, `--chart-${n + 1}`, colour)),
    };
  }

  function baseOption(spec, colours) {
    const text = {fontFamily: colours.font, fontSize: 12, color: colours.ink};
    return {
      animation: false,  // drawn once, at once: printed and screenshotted as shown
      color: colours.palette,
      textStyle: text,
      tooltip: {
        renderMode: "richText",
        confine: true,
        backgroundColor: colours.paper,
        borderColor: colours.line,
        textStyle: {...text},
        valueFormatter: formatters(spec).shown,
      },
    };
  }

  function legend(spec, colours) {
    if (spec.series.length < 2) {
      return {show: false};
    }
    return {type: "scroll", top: 0, left: "center", itemWidth: 14, itemHeight: 10,
            textStyle: {fontFamily: colours.font, fontSize: 12, color: colours.ink},
            pageTextStyle: {color: colours.muted}};
  }

  function cartesianOption(spec, colours) {
    const {axis} = formatters(spec);
    const labels = categoryLabels(spec.categories);
    const isHorizontal = spec.type === "hbar";
    const muted = {fontFamily: colours.font, fontSize: 12, color: colours.muted};
    const categoryAxis = {
      type: "category",
      data: labels.names,
      inverse: isHorizontal,  // the first category on top, as in the table
      boundaryGap: spec.type !== "line",
      axisTick: {alignWithLabel: true},
      axisLine: {lineStyle: {color: colours.line}},
      axisLabel: {...muted, formatter: (value, index) => labels.short[index] ?? value,
                  hideOverlap: true, overflow: "truncate", width: isHorizontal ? 160 : 110},
    };
    const valueAxis = {
      type: "value",
      min: 0,
      max: spec.unit === "percent" ? 100 : null,
      minInterval: spec.unit === "count" ? 1 : null,
      splitLine: {lineStyle: {color: colours.line}},
      axisLabel: {...muted, formatter: (value) => axis(value), hideOverlap: true},
    };
    const isStacked = spec.type === "stacked_bar";
    const showsLegend = spec.series.length > 1;
    return {
      legend: legend(spec, colours),
      grid: {top: showsLegend ? 36 : 12, right: 16, bottom: 4, left: 4, outerBoundsMode: "same"},
      tooltip: {trigger: "axis", axisPointer: {type: spec.type === "line" ? "line" : "shadow"}},
      xAxis: isHorizontal ? valueAxis : categoryAxis,
      yAxis: isHorizontal ? categoryAxis : valueAxis,
      series: spec.series.map((series) => ({
        name: String(series.name),
        type: spec.type === "line" ? "line" : "bar",
        data: series.data,
        stack: isStacked ? "total" : undefined,
        barMaxWidth: 40,
        showSymbol: spec.type === "line" && spec.categories.length <= 31,
        connectNulls: false,
      })),
      // On a phone, long category names beside an hbar leave the bars more of the width.
      media: isHorizontal ? [{query: {maxWidth: 480}, option: {yAxis: {axisLabel: {width: 96}}}}] : [],
    };
  }

  function pieOption(spec, colours) {
    const percent = numberFormat({style: "percent", maximumFractionDigits: 1});
    const names = categoryLabels(spec.categories).names;
    const [series] = spec.series;
    // Zero slices are left out: they would only pile their labels on each other. The table
    // beside the chart still lists them.
    const slices = names.map((name, n) => ({name, value: series.data[n]}))
      .filter((slice) => typeof slice.value === "number" && slice.value > 0);
    return {
      legend: {show: false},
      tooltip: {trigger: "item"},
      series: [{
        name: String(series.name),
        type: "pie",
        radius: ["38%", "68%"],
        center: ["50%", "52%"],
        data: slices,
        avoidLabelOverlap: true,
        label: {fontFamily: colours.font, fontSize: 12, color: colours.ink,
                formatter: (slice) => `${slice.name}\n${percent.format(slice.percent / 100)}`},
        labelLine: {length: 10, length2: 8, lineStyle: {color: colours.muted}},
        itemStyle: {borderColor: colours.paper, borderWidth: 1},
      }],
      // On a phone the ring shrinks to leave its labels room beside it.
      media: [{query: {maxWidth: 480}, option: {series: [{radius: ["28%", "50%"]}]}}],
    };
  }

  function readSpec(element) {
    const id = element.dataset.chart;
    const source = id ? document.getElementById(id) : null;
    if (!source) {
      throw new Error(`no <script id="${id}"> with the chart's data`);
    }
    const spec = JSON.parse(source.textContent);
    if (!TYPES.has(spec.type) || !Array.isArray(spec.categories) || !Array.isArray(spec.series)
        || spec.series.some((series) => !Array.isArray(series.data))) {
      throw new Error(`not a chart this page can draw: ${source.textContent.slice(0, 200)}`);
    }
    return spec;
  }

  function showEmpty(element, text) {
    // Not an image any more: the sentence itself is what a screen reader should read.
    element.removeAttribute("role");
    element.removeAttribute("aria-label");
    element.textContent = text || "";
    // No sentence to show: the figure goes, the table's own "nothing" row says it.
    (element.closest(".report-chart") || element).hidden = !text;
    element.dataset.empty = "true";
    element.dataset.drawn = "true";
  }

  function draw(element) {
    const spec = readSpec(element);
    if (!hasData(spec)) {
      showEmpty(element, spec.empty);
      return;
    }
    if (spec.type === "hbar") {
      element.style.height = `${hbarHeight(spec.categories.length)}px`;  // CSSOM: allowed
    }
    const colours = look(element);
    const chart = echarts.init(element, null, {renderer: "svg", locale: isChinese ? "ZH" : "EN"});
    const base = baseOption(spec, colours);
    const specific = spec.type === "pie" ? pieOption(spec, colours) : cartesianOption(spec, colours);
    chart.setOption({...specific, ...base, tooltip: {...base.tooltip, ...specific.tooltip}});
    const observer = new ResizeObserver(() => {
      if (!isPrinting) {
        chart.resize();
      }
    });
    observer.observe(element);
    charts.set(element, {chart, observer});
    element.dataset.drawn = "true";
  }

  function drawAll(root) {
    if (typeof echarts === "undefined") {
      if (root.querySelector("[data-chart]")) {
        console.error("reports.js: ECharts (vendor/echarts/echarts.min.js) is not loaded");
      }
      return;
    }
    root.querySelectorAll("[data-chart]:not([data-drawn])").forEach((element) => {
      try {
        draw(element);
      } catch (error) {
        element.dataset.drawn = "false";
        console.error(`reports.js: chart ${element.dataset.chart}:`, error);
      }
    });
  }

  // Charts whose div htmx has swapped out are let go, new ones drawn.
  function sweep() {
    for (const [element, {chart, observer}] of charts) {
      if (!element.isConnected) {
        observer.disconnect();
        chart.dispose();
        charts.delete(element);
      }
    }
  }

  // Printing lays the page out again at the paper's width, after this event: draw each chart
  // at a paper width now, and let reports.css scale the drawing (viewBox) to the real page.
  window.addEventListener("beforeprint", () => {
    isPrinting = true;
    for (const [element, {chart}] of charts) {
      chart.dispatchAction({type: "hideTip"});
      chart.resize({width: PRINT_WIDTH, height: element.clientHeight || 320});
      const svg = element.querySelector("svg");
      if (svg) {
        svg.setAttribute("viewBox", `0 0 ${svg.getAttribute("width")} ${svg.getAttribute("height")}`);
        svg.setAttribute("preserveAspectRatio", "xMidYMin meet");
      }
    }
  });

  window.addEventListener("afterprint", () => {
    isPrinting = false;
    for (const [element, {chart}] of charts) {
      const svg = element.querySelector("svg");
      if (svg) {
        svg.removeAttribute("viewBox");
        svg.removeAttribute("preserveAspectRatio");
      }
      chart.resize({width: "auto", height: "auto"});  // ECharts keeps the print size otherwise
    }
  });

  document.addEventListener("htmx:afterSettle", (event) => {
    sweep();
    drawAll(event.target instanceof Element ? event.target : document);
  });

  // The range: the server reads the two days only with "Custom" (a preset names its own
  // days). Typing a day chooses "Custom"; choosing a preset empties the days, so the
  // form never sends two ranges that disagree.
  function linkRange(root) {
    const form = root.querySelector("form.report-filters");
    if (!form) return;
    const preset = form.querySelector("select[name=preset]");
    const days = form.querySelectorAll("input[name=start], input[name=end]");
    if (!preset) return;
    for (const day of days) {
      day.addEventListener("input", () => { preset.value = "custom"; });
    }
    preset.addEventListener("change", () => {
      if (preset.value !== "custom") for (const day of days) day.value = "";
    });
  }

  function start() {
    linkRange(document);
    drawAll(document);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

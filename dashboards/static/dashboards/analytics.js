/* Paylinks analytics: draws the page's charts with plotly.js (served from our own static
 * files) from the figures the server embedded as JSON (#paylinks-charts-data). Follows the
 * console's light / dark mode, and marks the moment every chart is drawn:
 * performance.mark("paylinks-charts-drawn") and data-charts-drawn on the container (the
 * milliseconds since navigation), for the browser test and the benchmark. No inline script. */
(function () {
    "use strict";

    var CONFIG = { displaylogo: false, responsive: true, displayModeBar: false };

    function isDark() {
        return document.documentElement.classList.contains("dark");
    }

    function copy(value) {
        return JSON.parse(JSON.stringify(value));
    }

    function merge(target, source) {
        Object.keys(source).forEach(function (key) {
            var value = source[key];
            if (value && typeof value === "object" && !Array.isArray(value)) {
                target[key] = merge(target[key] && typeof target[key] === "object" ? target[key] : {}, value);
            } else {
                target[key] = value;
            }
        });
        return target;
    }

    // The figure as drawn in dark mode: the trace colours and the layout's chrome swapped.
    function darkFigure(figure, dark) {
        var data = copy(figure.data || []);
        var layout = copy(figure.layout || {});
        (dark.traces || []).forEach(function (color, i) {
            var trace = data[i];
            if (!trace) {
                return;
            }
            if (trace.type === "scatter") {
                trace.line = merge(trace.line || {}, { color: color });
                if (trace.marker) {
                    trace.marker.color = color;
                }
            } else {
                trace.marker = merge(trace.marker || {}, { color: color });
            }
        });
        var chrome = dark.layout || {};
        var axis = chrome.xaxis || {};
        Object.keys(layout).forEach(function (key) {
            if (/^[xy]axis\d*$/.test(key)) {
                merge(layout[key], axis);
            }
        });
        merge(layout, { font: chrome.font, legend: chrome.legend });
        (layout.annotations || []).forEach(function (note) {
            note.font = merge(note.font || {}, { color: (chrome.legend && chrome.legend.font || {}).color });
        });
        return { data: data, layout: layout };
    }

    function draw() {
        var source = document.getElementById("paylinks-charts-data");
        var container = document.querySelector("[data-charts]");
        if (!source || !container || !window.Plotly) {
            return;
        }
        var charts = JSON.parse(source.textContent);
        var drawn = [];
        var figures = {};
        charts.forEach(function (chart) {
            var element = container.querySelector('[data-chart="' + chart.key + '"]');
            if (!element) {
                return;
            }
            figures[chart.key] = {
                element: element,
                light: { data: chart.figure.data || [], layout: chart.figure.layout || {} },
                dark: darkFigure(chart.figure, chart.dark)
            };
            var figure = figures[chart.key][isDark() ? "dark" : "light"];
            drawn.push(window.Plotly.newPlot(element, copy(figure.data), copy(figure.layout), CONFIG));
        });
        Promise.all(drawn).then(function () {
            performance.mark("paylinks-charts-drawn");
            container.setAttribute("data-charts-drawn", String(Math.round(performance.now())));
        });

        // Unfold switches the mode with a class on <html>: redraw in the other colours.
        var mode = isDark();
        new MutationObserver(function () {
            if (isDark() === mode) {
                return;
            }
            mode = isDark();
            Object.keys(figures).forEach(function (key) {
                var entry = figures[key];
                var figure = entry[mode ? "dark" : "light"];
                window.Plotly.react(entry.element, copy(figure.data), copy(figure.layout), CONFIG);
            });
        }).observe(document.documentElement, { attributes: true, attributeFilter: ["class"] });
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", draw);
    } else {
        draw();
    }
})();

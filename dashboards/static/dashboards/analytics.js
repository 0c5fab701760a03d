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

    // Panels drawn side by side (one per currency) go one under the other, each at full
    // width with its own axes: long method names and amount bands stay readable, on a
    // phone too. A panel of horizontal bars is as tall as its bars need.
    var GAP = 70;

    function panelHeight(figure, xaxis) {
        var anchor = xaxis === "xaxis" ? "x" : "x" + xaxis.slice(5);
        var trace = (figure.data || []).filter(function (t) {
            return (t.xaxis || "x") === anchor;
        })[0];
        if (trace && trace.orientation === "h") {
            return Math.max(90, 30 * (trace.y || []).length + 20);
        }
        return 200;
    }

    function stacked(figure) {
        var layout = figure.layout || {};
        var xs = Object.keys(layout).filter(function (key) {
            return /^xaxis\d*$/.test(key) && Array.isArray(layout[key].domain);
        });
        var sideBySide = xs.length > 1 && xs.every(function (key) {
            var y = layout["y" + key.slice(1)];
            return y && !Array.isArray(y.domain);
        });
        if (!sideBySide) {
            return figure;
        }
        xs.sort(function (a, b) {
            return (Number(a.slice(5)) || 1) - (Number(b.slice(5)) || 1);
        });
        var heights = xs.map(function (key) {
            return panelHeight(figure, key);
        });
        var margin = layout.margin || {};
        var plot = heights.reduce(function (a, b) { return a + b; }, 0) + (xs.length - 1) * GAP;
        var total = plot + (margin.t || 0) + 60;
        var result = { data: figure.data, layout: copy(layout) };
        var top = 1;
        xs.forEach(function (key, i) {
            var y = "y" + key.slice(1);
            var span = heights[i] / plot;
            result.layout[key].domain = [0, 1];
            result.layout[y] = merge(result.layout[y] || {}, { domain: [Math.max(top - span, 0), top] });
            top -= span + GAP / plot;
        });
        result.layout.height = total;
        result.layout.margin = merge(copy(margin), { b: 60 });
        result.layout.showlegend = false; // each panel is titled with its currency
        return result;
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
            var figure = stacked(figures[chart.key][isDark() ? "dark" : "light"]);
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
                var figure = stacked(entry[mode ? "dark" : "light"]);
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

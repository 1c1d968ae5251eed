// taskware web view: live numbers and confirmations. Plain JavaScript, no
// library; every page works without it.
(function () {
  "use strict";

  // A form marked data-confirm asks before it is sent.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        e.preventDefault();
      }
    });
  });

  var main = document.querySelector("main[data-api]");
  if (!main) {
    return;
  }
  var every = parseInt(main.getAttribute("data-refresh"), 10) || 0;
  if (every <= 0) {
    return;
  }
  var status = document.getElementById("live-status");
  var changed = document.getElementById("changed");
  // The charts' geometry, as the server draws them (see charts.go).
  var PLOT_LEFT = 34, PLOT_TOP = 6, PLOT_WIDTH = 240, PLOT_HEIGHT = 40;

  function rowsChanged(rows) {
    if (!Array.isArray(rows)) {
      return false;
    }
    var shown = Array.prototype.map.call(document.querySelectorAll("[data-row]"), function (el) {
      return el.getAttribute("data-row");
    });
    if (shown.length !== rows.length) {
      return true;
    }
    var set = {};
    rows.forEach(function (k) { set[k] = true; });
    return shown.some(function (k) { return !set[k]; });
  }

  function hhmm(t) {
    var d = new Date(t);
    return String(d.getUTCHours()).padStart(2, "0") + ":" + String(d.getUTCMinutes()).padStart(2, "0");
  }

  // drawCharts redraws each chart's bars on its row's scale, with their
  // hover text, adding and removing bars as buckets fill or empty; the
  // numbers around them are live values.
  function drawCharts(rates) {
    if (!rates || !Array.isArray(rates.rows) || !Array.isArray(rates.starts)) {
      return;
    }
    var SVG = "http://www.w3.org/2000/svg";
    rates.rows.forEach(function (row) {
      var top = Math.max(1, row.top || 0);
      (row.charts || []).forEach(function (c) {
        var svg = document.querySelector('svg[data-chart="' + CSS.escape(row.name) + '"][data-queue="' +
          CSS.escape(c.queue) + '"]');
        if (!svg) {
          return;
        }
        var bars = {};
        svg.querySelectorAll("rect[data-i]").forEach(function (rect) {
          bars[rect.getAttribute("data-i")] = rect;
        });
        var step = PLOT_WIDTH / Math.max(c.counts.length, 1);
        c.counts.forEach(function (v, i) {
          var rect = bars[i];
          delete bars[i];
          if (!v) {
            if (rect) {
              rect.remove();
            }
            return;
          }
          if (!rect) {
            rect = document.createElementNS(SVG, "rect");
            rect.setAttribute("data-i", String(i));
            rect.setAttribute("x", String(Math.round((PLOT_LEFT + i * step + step * 0.1) * 100) / 100));
            rect.setAttribute("width", String(Math.round(step * 80) / 100));
            rect.appendChild(document.createElementNS(SVG, "title"));
            svg.insertBefore(rect, svg.querySelector("line.axis"));
          }
          var h = Math.round(Math.max(1, v * PLOT_HEIGHT / top) * 100) / 100;
          rect.setAttribute("height", String(h));
          rect.setAttribute("y", String(PLOT_TOP + PLOT_HEIGHT - h));
          var from = new Date(rates.starts[i]);
          var text = c.queue + ", " + hhmm(from);
          if (rates.bucket_seconds > 60) {
            text += "\u2013" + hhmm(from.getTime() + rates.bucket_seconds * 1000);
          }
          rect.querySelector("title").textContent = text + " UTC: " + v;
        });
        Object.keys(bars).forEach(function (k) {
          bars[k].remove();
        });
      });
    });
  }

  function apply(data) {
    var live = data.live || {};
    document.querySelectorAll("[data-live]").forEach(function (el) {
      var k = el.getAttribute("data-live");
      if (Object.prototype.hasOwnProperty.call(live, k) && el.textContent !== live[k]) {
        el.textContent = live[k];
      }
    });
    // A workflow's step boxes are coloured by their data-state.
    document.querySelectorAll("[data-state-live]").forEach(function (el) {
      var k = el.getAttribute("data-state-live");
      if (Object.prototype.hasOwnProperty.call(live, k)) {
        el.setAttribute("data-state", live[k]);
      }
    });
    // A progress bar shows while its key has one, with its value and text.
    var bars = data.bars || {};
    document.querySelectorAll("[data-bar-live]").forEach(function (el) {
      var b = bars[el.getAttribute("data-bar-live")];
      el.hidden = !b;
      if (!b) {
        return;
      }
      var bar = el.querySelector("progress");
      if (bar) {
        if (b.max > 0) {
          bar.max = b.max;
          bar.value = b.value;
        } else {
          bar.removeAttribute("value");
        }
        bar.setAttribute("aria-label", "Progress: " + b.text);
      }
      var text = el.querySelector("[data-bar-text]");
      if (text && text.textContent !== b.text) {
        text.textContent = b.text;
      }
    });
    drawCharts(data.rates);
    if (changed) {
      changed.hidden = !rowsChanged(data.rows);
    }
    if (status) {
      status.textContent = "Updated " + new Date().toLocaleTimeString();
    }
  }

  function tick() {
    if (document.hidden) {
      setTimeout(tick, every);
      return;
    }
    fetch(main.getAttribute("data-api"), {
      headers: { "Accept": "application/json" },
      credentials: "same-origin",
      cache: "no-store"
    }).then(function (r) {
      if (!r.ok) {
        throw new Error("HTTP " + r.status);
      }
      return r.json();
    }).then(apply).catch(function (err) {
      if (status) {
        status.textContent = "Live updates failed (" + err.message + "); retrying.";
      }
    }).then(function () {
      setTimeout(tick, every);
    });
  }
  setTimeout(tick, every);
})();

// Fit any screen, and accessible (issue 18, item 6): a table that scrolls
// sideways in its own box can be focused, so that the keyboard scrolls it
// too. (Each cell's column name, which the phone layout shows before it,
// comes from the server: data-label in the templates.)
(function () {
  "use strict";
  function focusable() {
    document.querySelectorAll("main table").forEach(function (table) {
      var scrolls = table.scrollWidth > table.clientWidth + 1;
      if (scrolls && !table.hasAttribute("tabindex")) {
        table.setAttribute("tabindex", "0");
        table.setAttribute("data-scrolls", "");
      } else if (!scrolls && table.hasAttribute("data-scrolls")) {
        table.removeAttribute("tabindex");
        table.removeAttribute("data-scrolls");
      }
    });
  }
  focusable();
  window.addEventListener("resize", focusable);
})();

// Find (issue 18): a checkbox marked data-select-all="<form id>" selects
// or clears every row checkbox of that form on the page.
(function () {
  "use strict";
  document.querySelectorAll("input[data-select-all]").forEach(function (all) {
    var form = all.getAttribute("data-select-all");
    all.addEventListener("change", function () {
      document.querySelectorAll('input[type="checkbox"][form="' + form + '"]').forEach(function (box) {
        box.checked = all.checked;
      });
    });
  });
})();

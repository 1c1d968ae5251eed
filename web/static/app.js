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
  var PLOT_TOP = 6, PLOT_HEIGHT = 40;

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
  // hover text; the numbers around them are live values.
  function drawCharts(rates) {
    if (!rates || !Array.isArray(rates.rows) || !Array.isArray(rates.starts)) {
      return;
    }
    rates.rows.forEach(function (row) {
      var top = Math.max(1, row.top || 0);
      (row.charts || []).forEach(function (c) {
        var svg = document.querySelector('svg[data-chart="' + CSS.escape(row.name) + '"][data-queue="' +
          CSS.escape(c.queue) + '"]');
        if (!svg) {
          return;
        }
        svg.querySelectorAll("rect[data-i]").forEach(function (rect) {
          var i = parseInt(rect.getAttribute("data-i"), 10);
          var v = c.counts[i] || 0;
          var h = v > 0 ? Math.max(1, v * PLOT_HEIGHT / top) : 0;
          h = Math.round(h * 100) / 100;
          rect.setAttribute("height", String(h));
          rect.setAttribute("y", String(PLOT_TOP + PLOT_HEIGHT - h));
          var t = rect.querySelector("title");
          if (t && rates.starts[i]) {
            var from = new Date(rates.starts[i]);
            var text = c.queue + ", " + hhmm(from);
            if (rates.bucket_seconds > 60) {
              text += "\u2013" + hhmm(from.getTime() + rates.bucket_seconds * 1000);
            }
            t.textContent = text + " UTC: " + v;
          }
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

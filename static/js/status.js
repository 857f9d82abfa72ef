/* Live progress of a contest's sync and thumbnails: poll the status JSON, update the numbers.
 * When a sync ends, the parts of the page marked data-refresh-after-sync (the contest's figures,
 * the table of the last syncs) are fetched again, so nothing says "running" until a reload.
 *
 * No inline script anywhere (a strict Content-Security-Policy comes later): the page gives the
 * URL and the translated state names in data- attributes of #sync-status.
 */
(function () {
  "use strict";

  var INTERVAL = 3000;          // ms between polls while something runs
  var MAX_INTERVAL = 60000;     // after errors, back off up to this
  var IDLE_POLLS_BEFORE_STOP = 3; // thumbnail jobs pause briefly between batches

  function start(panel) {
    var url = panel.getAttribute("data-status-url");
    var labels = JSON.parse(panel.getAttribute("data-state-labels") || "{}");
    var numbers = new Intl.NumberFormat(document.documentElement.lang || undefined);
    var interval = INTERVAL;
    var idlePolls = 0;
    var wasRunning = panel.getAttribute("data-running") === "yes";

    function valueAt(data, path) {
      return path.split(".").reduce(function (value, key) {
        return value === null || value === undefined ? undefined : value[key];
      }, data);
    }

    function show(data) {
      panel.querySelectorAll("[data-field]").forEach(function (element) {
        var value = valueAt(data, element.getAttribute("data-field"));
        var format = element.getAttribute("data-format");
        if (format === "state") {
          if (value) {
            element.textContent = labels[value] || value;
            element.className = "state state-" + value;
          }
        } else if (format === "text") {
          element.textContent = value || "";
          element.hidden = !value;
        } else if (typeof value === "number") {
          element.textContent = numbers.format(value);
        }
      });
      var thumbs = data.thumbnails || {};
      var total = (thumbs.done || 0) + (thumbs.failed || 0) + (thumbs.pending || 0);
      panel.querySelectorAll("[data-thumbnail-bar]").forEach(function (bar) {
        bar.max = total || 1;
        bar.value = (thumbs.done || 0) + (thumbs.failed || 0);
      });
      panel.querySelectorAll("[data-show-while-running]").forEach(function (element) {
        element.hidden = !data.running;
      });
      document.querySelectorAll("[data-disable-while-running]").forEach(function (button) {
        button.disabled = !!data.running;
      });
      document.querySelectorAll("[data-live-field]").forEach(function (element) {
        var value = valueAt(data, element.getAttribute("data-live-field"));
        if (typeof value === "number") { element.textContent = numbers.format(value); }
      });
      if (wasRunning && !data.running) { refreshAfterSync(); }
      wasRunning = !!data.running;
    }

    // The page itself, fetched again: its marked sections replace the ones shown.
    function refreshAfterSync() {
      fetch(window.location.href, { headers: { Accept: "text/html" }, cache: "no-store", credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.text();
        })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html");
          document.querySelectorAll("[data-refresh-after-sync]").forEach(function (section) {
            var replacement = fresh.getElementById(section.id);
            if (replacement) { section.replaceWith(document.importNode(replacement, true)); }
          });
        })
        .catch(function () { /* the numbers above are current; the table waits for a reload */ });
    }

    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, cache: "no-store", credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (data) {
          interval = INTERVAL;
          show(data);
          idlePolls = data.running || data.thumbnails_working ? 0 : idlePolls + 1;
          if (idlePolls < IDLE_POLLS_BEFORE_STOP) { window.setTimeout(poll, interval); }
        })
        .catch(function () {
          interval = Math.min(interval * 2, MAX_INTERVAL);
          window.setTimeout(poll, interval);
        });
    }

    window.setTimeout(poll, INTERVAL);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var panel = document.getElementById("sync-status");
    if (panel && panel.getAttribute("data-active") === "yes") { start(panel); }
  });
})();

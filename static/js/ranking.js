/* The ranking page: the juror orders a grid of entries, best first; the order is saved as they go.
 *
 * The grid is the page's <ol>: its order is the ranking, and only the first `ballot` entries are
 * placed (a round's top N of M; the rest are shown dimmed as not placed). Ways to move an entry:
 * - drag it: with a mouse anywhere on the tile; with a finger or a pen by its handle (⠿), so that
 *   the rest of the grid still scrolls. Pointer events, with the page scrolling near its edges;
 * - keys: the arrows select another entry; Shift+arrows move the selected one a place (or a row);
 *   Enter picks it up so that the plain arrows move it, until Enter or Esc; typing a place number
 *   moves it there; Home / End select the first or the last;
 * - the buttons above the grid, for the selected entry (big enough for a phone).
 *
 * Every change is saved a moment later (PUT, the whole ballot at once). Until the server has it,
 * the order is also kept in localStorage, so a lost connection or a closed tab loses nothing: the
 * next visit puts the grid back in that order and sends it. A failed save is tried again after 1, 2,
 * 4 … 30 s, at once when the browser is online again; the indicator says where it stands.
 *
 * No inline script (strict Content-Security-Policy): the data and the translated strings come in
 * the page's <script type="application/json" id="ranking-data"> block.
 */
(function () {
  "use strict";

  var SAVE_AFTER_MS = 600;
  var RETRY_FIRST_MS = 1000;
  var RETRY_MAX_MS = 30000;
  var DIGITS_WAIT_MS = 900;
  var DRAG_START_PX = 6;
  var EDGE_PX = 70;
  var FINAL = { invalid_ranking: true, invalid_request: true, round_not_open: true, not_a_juror: true };

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_match, key) {
      return values[key] === undefined ? "" : String(values[key]);
    });
  }

  function noop() {}

  function request(method, url, body) {
    var token = document.querySelector('meta[name="csrf-token"]');
    return fetch(url, {
      method: method, credentials: "same-origin", cache: "no-store",
      headers: { Accept: "application/json", "Content-Type": "application/json",
                 "X-CSRFToken": token ? token.getAttribute("content") : "" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (json) {
        if (response.ok && json) { return json; }
        var failure = new Error((json && json.message) || "HTTP " + response.status);
        failure.status = response.status;
        failure.code = json && json.code;
        failure.retryAfter = parseInt(response.headers.get("Retry-After") || "", 10) || 0;
        throw failure;
      });
    });
  }

  function start(root, data) {
    var S = data.strings;
    function byId(id) { return document.getElementById(id); }
    var grid = byId("ranking-grid");
    var el = { save: byId("save-state"), alert: byId("judge-alert"), live: byId("ranking-live"),
               help: byId("judge-help"), full: byId("judge-full"), fullImage: byId("judge-full-image") };
    var storeKey = "wle.jury.ranking." + data.user + "." + data.round;
    var saved = data.saved, dirty = false, sending = false, closed = false, problem = null;
    var saveTimer = null, retryTimer = null, retryDelay = RETRY_FIRST_MS, retryAt = 0;
    var selected = grid.firstElementChild, grabbed = false, digits = "", digitsTimer = null, drag = null;

    function tiles() { return Array.prototype.slice.call(grid.children); }
    function indexOf(tile) { return tiles().indexOf(tile); }
    function order() { return tiles().map(function (tile) { return Number(tile.getAttribute("data-task")); }); }

    // --- Keeping an unsent order -----------------------------------------------------------

    function remember(ids) {
      try {
        if (ids) { window.localStorage.setItem(storeKey, JSON.stringify(ids)); } else { window.localStorage.removeItem(storeKey); }
      } catch (error) { /* storage off or full: the order is still sent */ }
    }

    function remembered() {
      try { return JSON.parse(window.localStorage.getItem(storeKey) || "null"); } catch (error) { return null; }
    }

    /* Put the grid in a remembered order (entries it does not name keep their order, after). */
    function restore(ids) {
      if (!Array.isArray(ids)) { return false; }
      var byTask = {};
      tiles().forEach(function (tile) { byTask[tile.getAttribute("data-task")] = tile; });
      ids.forEach(function (id) {
        var tile = byTask[String(id)];
        if (tile) { grid.appendChild(tile); delete byTask[String(id)]; }
      });
      tiles().forEach(function (tile) { if (byTask[tile.getAttribute("data-task")]) { grid.appendChild(tile); } });
      return true;
    }

    // --- The grid ----------------------------------------------------------------------------

    function renumber() {
      tiles().forEach(function (tile, i) {
        var place = i + 1, unplaced = place > data.ballot;
        var label = tile.querySelector(".rank-place");
        if (label.textContent !== String(place)) { label.textContent = String(place); }
        tile.classList.toggle("unplaced", unplaced);
        tile.setAttribute("aria-label", format(S.place, { place: place }) + (unplaced ? " (" + S.unplaced + ")" : ""));
      });
    }

    function select(tile, focus) {
      if (!tile) { return; }
      if (selected && selected !== tile) {
        selected.tabIndex = -1;
        selected.classList.remove("selected", "grabbed");
        grabbed = false;
      }
      selected = tile;
      tile.tabIndex = 0;
      tile.classList.add("selected");
      if (focus) { tile.focus({ preventScroll: true }); tile.scrollIntoView({ block: "nearest" }); }
    }

    function announce(text) { el.live.textContent = text; }

    function columns() {
      var all = tiles();
      if (!all.length) { return 1; }
      var top = all[0].offsetTop, n = 0;
      while (n < all.length && all[n].offsetTop === top) { n += 1; }
      return Math.max(1, n);
    }

    function moveTo(tile, index) {
      var all = tiles();
      var from = all.indexOf(tile);
      index = Math.max(0, Math.min(all.length - 1, index));
      if (from < 0 || index === from) { return; }
      grid.insertBefore(tile, index > from ? all[index].nextSibling : all[index]);
      renumber();
      select(tile, true);
      announce(format(S.moved, { place: index + 1, total: all.length }));
      changed();
    }

    // --- Saving --------------------------------------------------------------------------------

    function changed() {
      dirty = true;
      remember(order());
      window.clearTimeout(saveTimer);
      saveTimer = window.setTimeout(send, SAVE_AFTER_MS);
      showState();
    }

    function send() {
      saveTimer = null;
      if (sending || retryTimer || closed || !dirty) { showState(); return; }
      sending = true;
      dirty = false;
      showState();
      request("PUT", data.api + "/ranking", { order: order().slice(0, data.ballot) }).then(function () {
        sending = false;
        retryDelay = RETRY_FIRST_MS;
        problem = null;
        if (dirty) { send(); return; }
        saved = true;
        remember(null);
        showState();
      }, function (failure) {
        sending = false;
        if ((failure.code && FINAL[failure.code]) || failure.status === 403) {
          remember(null);
          if (failure.code === "round_not_open") { closed = true; }
          el.alert.textContent = format(S.rejected, { message: failure.message });
          el.alert.hidden = false;
          showState();
          return;
        }
        dirty = true;
        problem = failure.status === 401 ? "logged_out" : failure.status === 400 ? "reload" : null;
        var wait = failure.retryAfter ? failure.retryAfter * 1000 : retryDelay;
        retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
        retryAt = Date.now() + wait;
        retryTimer = window.setTimeout(function () { retryTimer = null; send(); }, wait);
        showState();
      });
    }

    function showState() {
      var state, text;
      if (closed) { state = "error"; text = el.alert.textContent; }
      else if (problem) { state = "error"; text = S[problem]; }
      else if (retryTimer) { state = "waiting"; text = format(S.waiting, { s: Math.max(1, Math.ceil((retryAt - Date.now()) / 1000)) }); }
      else if (sending || dirty) { state = "saving"; text = S.saving; }
      else if (saved) { state = "saved"; text = S.saved; }
      else { state = "unsaved"; text = S.unsaved; }
      el.save.setAttribute("data-state", state);
      el.save.textContent = text;
    }

    window.setInterval(function () { if (retryTimer) { showState(); } }, 1000);
    window.addEventListener("online", function () {
      if (retryTimer) { window.clearTimeout(retryTimer); retryTimer = null; retryDelay = RETRY_FIRST_MS; send(); }
    });

    // --- Keys -------------------------------------------------------------------------------------

    function commitDigits() {
      window.clearTimeout(digitsTimer);
      digitsTimer = null;
      var place = parseInt(digits, 10);
      digits = "";
      if (place >= 1 && selected) { moveTo(selected, place - 1); }
    }

    grid.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) { return; }
      var tile = event.target.closest(".rank-tile");
      if (!tile) { return; }
      if (tile !== selected) { select(tile, false); }
      var key = event.key, index = indexOf(tile), delta = null;
      if (key === "ArrowLeft") { delta = -1; }
      else if (key === "ArrowRight") { delta = 1; }
      else if (key === "ArrowUp") { delta = -columns(); }
      else if (key === "ArrowDown") { delta = columns(); }
      if (delta !== null) {
        event.preventDefault();
        if (event.shiftKey || grabbed) {
          var keep = grabbed;
          moveTo(tile, index + delta);
          if (keep) { grabbed = true; tile.classList.add("grabbed"); }
        } else {
          select(tiles()[Math.max(0, Math.min(tiles().length - 1, index + delta))], true);
        }
        return;
      }
      if (key === "Home" || key === "End") {
        event.preventDefault();
        var end = key === "Home" ? 0 : tiles().length - 1;
        if (event.shiftKey) { moveTo(tile, end); } else { select(tiles()[end], true); }
      } else if (/^[0-9]$/.test(key)) {
        event.preventDefault();
        digits += key;
        window.clearTimeout(digitsTimer);
        digitsTimer = window.setTimeout(commitDigits, DIGITS_WAIT_MS);
      } else if (key === "Enter" || key === " ") {
        event.preventDefault();
        if (digits) { commitDigits(); return; }
        grabbed = !grabbed;
        tile.classList.toggle("grabbed", grabbed);
        announce(format(grabbed ? S.grabbed : S.dropped, { place: index + 1 }));
      } else if (key === "Escape" && grabbed) {
        event.preventDefault();
        grabbed = false;
        tile.classList.remove("grabbed");
        announce(format(S.dropped, { place: index + 1 }));
      }
    });

    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) { return; }
      if (event.key === "?") { event.preventDefault(); if (el.help.open) { el.help.close(); } else { el.help.showModal(); } }
      else if (event.key === "Escape" && !el.full.hidden) { event.preventDefault(); closeFull(); }
      else if ((event.key === "f" || event.key === "F") && !el.help.open) {
        event.preventDefault();
        if (el.full.hidden) { openFull(selected); } else { closeFull(); }
      }
    });

    // --- Buttons, clicks, the full size view ------------------------------------------------------

    root.addEventListener("click", function (event) {
      var button = event.target.closest("[data-move], [data-action]");
      if (button && button.hasAttribute("data-move")) {
        if (!selected) { return; }
        var move = button.getAttribute("data-move"), index = indexOf(selected);
        if (move === "first") { moveTo(selected, 0); }
        else if (move === "ballot") { moveTo(selected, data.ballot - 1); }
        else { moveTo(selected, index + Number(move)); }
        return;
      }
      if (button) {
        var name = button.getAttribute("data-action");
        if (name === "save") { dirty = true; window.clearTimeout(saveTimer); send(); }
        else if (name === "help") { el.help.showModal(); }
        else if (name === "full") { closeFull(); }
        else if (name === "enlarge") { var shown = button.closest(".rank-tile"); select(shown, true); openFull(shown); }
        return;
      }
      var tile = event.target.closest(".rank-tile");
      if (tile) { select(tile, true); }
    });

    // The tile size the juror chose: kept in this browser for every round.
    var sizeChoice = root.querySelector("[data-tile-size]");
    if (sizeChoice) {
      try { sizeChoice.value = window.localStorage.getItem("wle-tile-size") || sizeChoice.value; } catch (error) { /* storage off */ }
      grid.setAttribute("data-size", sizeChoice.value);
      sizeChoice.addEventListener("change", function () {
        grid.setAttribute("data-size", sizeChoice.value);
        try { window.localStorage.setItem("wle-tile-size", sizeChoice.value); } catch (error) { /* storage off */ }
      });
    }

    grid.addEventListener("dblclick", function (event) {
      var tile = event.target.closest(".rank-tile");
      if (tile) { openFull(tile); }
    });

    function openFull(tile) {
      if (!tile) { return; }
      el.fullImage.src = tile.getAttribute("data-full");
      el.full.classList.remove("actual-size");
      el.full.hidden = false;
      if (el.full.requestFullscreen && !document.fullscreenElement) { el.full.requestFullscreen().catch(noop); }
    }

    function closeFull() {
      el.full.hidden = true;
      if (document.fullscreenElement) { document.exitFullscreen().catch(noop); }
      if (selected) { selected.focus({ preventScroll: true }); }
    }

    el.fullImage.addEventListener("click", function () { el.full.classList.toggle("actual-size"); });
    document.addEventListener("fullscreenchange", function () {
      if (!document.fullscreenElement && !el.full.hidden) { el.full.hidden = true; }
    });

    // --- Dragging ---------------------------------------------------------------------------------

    function hover(x, y) {
      var under = document.elementFromPoint(x, y);
      var target = under && under.closest(".rank-tile");
      if (!target || target === drag.tile || target.parentNode !== grid) { return; }
      var box = target.getBoundingClientRect();
      var after = x > box.left + box.width / 2;
      grid.insertBefore(drag.tile, after ? target.nextSibling : target);
    }

    function autoScroll() {
      if (!drag || !drag.started) { return; }
      var speed = 0;
      if (drag.y < EDGE_PX) { speed = -Math.ceil((EDGE_PX - drag.y) / 4); }
      else if (drag.y > window.innerHeight - EDGE_PX) { speed = Math.ceil((drag.y - window.innerHeight + EDGE_PX) / 4); }
      if (speed) { window.scrollBy(0, speed); hover(drag.x, drag.y); }
      window.requestAnimationFrame(autoScroll);
    }

    function begin() {
      drag.started = true;
      select(drag.tile, false);
      drag.tile.classList.add("dragging");
      grid.classList.add("is-dragging");
      window.requestAnimationFrame(autoScroll);
    }

    function finish() {
      var tile = drag.tile, from = drag.from, started = drag.started;
      drag = null;
      if (!started) { return; }
      tile.classList.remove("dragging");
      grid.classList.remove("is-dragging");
      var to = indexOf(tile);
      select(tile, true);
      if (to !== from) {
        renumber();
        announce(format(S.moved, { place: to + 1, total: tiles().length }));
        changed();
      }
    }

    grid.addEventListener("pointerdown", function (event) {
      var tile = event.target.closest(".rank-tile");
      if (!tile || event.button !== 0 || drag || event.target.closest(".rank-enlarge")) { return; }
      var onHandle = !!event.target.closest(".rank-handle");
      if (event.pointerType !== "mouse" && !onHandle) { return; }  // a finger elsewhere scrolls the page
      drag = { tile: tile, id: event.pointerId, x: event.clientX, y: event.clientY,
               x0: event.clientX, y0: event.clientY, from: indexOf(tile), started: false };
      grid.setPointerCapture(event.pointerId);
      event.preventDefault();
      if (onHandle) { begin(); }
    });

    grid.addEventListener("pointermove", function (event) {
      if (!drag || event.pointerId !== drag.id) { return; }
      drag.x = event.clientX;
      drag.y = event.clientY;
      if (!drag.started) {
        if (Math.abs(drag.x - drag.x0) + Math.abs(drag.y - drag.y0) < DRAG_START_PX) { return; }
        begin();
      }
      event.preventDefault();
      hover(drag.x, drag.y);
    });

    grid.addEventListener("pointerup", function (event) {
      if (drag && event.pointerId === drag.id) { finish(); }
    });
    grid.addEventListener("pointercancel", function (event) {
      if (drag && event.pointerId === drag.id) { finish(); }
    });

    // --- Start ----------------------------------------------------------------------------------

    if (restore(remembered())) { renumber(); dirty = true; send(); }
    select(selected, false);
    showState();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("ranking");
    var data = document.getElementById("ranking-data");
    if (root && data) { start(root, JSON.parse(data.textContent)); }
  });
})();

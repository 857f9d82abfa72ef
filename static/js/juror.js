/* The juror's page: one entry at a time, judged with keys, buttons or swipes; votes saved in the background.
 *
 * Three lists make the page:
 * - the queue: the entries still to judge, in the server's order; the first is on screen. The
 *   next ones are fetched ahead and their pictures loaded and decoded (an <img> each, kept with
 *   the entry), so that the next picture is on screen at once;
 * - the trail: the entries voted on, oldest first, so that ← goes back (further back than this
 *   page knows, the server tells: GET previous). Voting on an entry of the trail changes the vote
 *   and moves forward;
 * - the outbox: votes and skips the server has not acknowledged yet. It is kept in localStorage,
 *   so a vote survives a lost connection, a closed tab or a crash and is sent again on the next
 *   visit. One request at a time, in order; a failed one is tried again after 1, 2, 4 … 30 s (or
 *   the server's Retry-After), and at once when the browser is online again. Only an answer that
 *   says the vote can never be accepted (an API `code`: the round is closed, the value is not
 *   allowed, the entry is not the juror's) removes it, and the page says so.
 *
 * A double key press records one vote and moves on once: for MIN_VIEW_MS after an entry appears,
 * keys that vote or skip do nothing (nobody judges a picture faster), and a held key's repeats
 * are ignored. The server is idempotent as well: the same vote twice is one vote.
 *
 * No inline script (strict Content-Security-Policy): the data and the translated strings come in
 * the page's <script type="application/json" id="judge-data"> block.
 */
(function () {
  "use strict";

  var MIN_VIEW_MS = 250;
  var RETRY_FIRST_MS = 1000;
  var RETRY_MAX_MS = 30000;
  var SWIPE_PX = 60;
  var TRAIL_PICTURES_KEPT = 20;  // pictures of older voted entries are let go (a long round has thousands)
  // API error codes that mean "this can never be saved": retrying would not help.
  var FINAL = { invalid_vote: true, invalid_request: true, not_your_task: true, round_not_open: true, not_a_juror: true };

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_match, key) {
      return values[key] === undefined ? "" : String(values[key]);
    });
  }

  function noop() {}

  /* JSON over fetch; a failure carries the HTTP status, the API's code and message, and Retry-After. */
  function request(method, url, body) {
    var init = { method: method, credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } };
    if (method !== "GET") {
      var token = document.querySelector('meta[name="csrf-token"]');
      init.headers["Content-Type"] = "application/json";
      init.headers["X-CSRFToken"] = token ? token.getAttribute("content") : "";
      init.body = JSON.stringify(body || {});
    }
    return fetch(url, init).then(function (response) {
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

  /* The outbox in localStorage (or only in memory where storage is off or full). */
  function Store(key) { this.key = key; }
  Store.prototype.load = function () {
    try {
      var ops = JSON.parse(window.localStorage.getItem(this.key) || "[]");
      return Array.isArray(ops) ? ops.filter(function (op) {
        return op && typeof op.task === "number" && (op.kind === "skip" || (op.kind === "vote" && typeof op.value === "number"));
      }) : [];
    } catch (error) {
      return [];
    }
  };
  Store.prototype.save = function (ops) {
    try {
      if (ops.length) { window.localStorage.setItem(this.key, JSON.stringify(ops)); } else { window.localStorage.removeItem(this.key); }
    } catch (error) { /* storage full or switched off: the votes stay in memory, and are sent all the same */ }
  };

  function start(root, data) {
    var S = data.strings;
    function byId(id) { return document.getElementById(id); }
    var el = {
      stage: byId("judge-stage"), picture: byId("judge-picture"), message: byId("judge-message"),
      vote: byId("judge-current-vote"), toast: byId("judge-toast"), alert: byId("judge-alert"),
      save: byId("save-state"), bar: byId("judge-progress-bar"), doneCount: byId("judge-done-count"),
      totalCount: byId("judge-total-count"), help: byId("judge-help"), full: byId("judge-full"),
      fullImage: byId("judge-full-image")
    };
    var store = new Store("wle.jury.outbox." + data.user + "." + data.round);
    var outbox = store.load();
    var queue = [];
    var trail = [];
    var position = null;       // null: the queue's first entry is on screen; a number: that entry of the trail
    var shown = null;          // the entry on screen
    var shownAt = 0;
    var progress = data.progress;
    var votedHere = {};        // task id → true: voted on this page (the server may not know yet)
    var acks = 0;              // acknowledgements so far: tells which "next" answers are older than a skip
    var skipAckedAt = {};      // task id → acks when its skip was acknowledged
    var fetching = false, more = true, refillTimer = null, refillDelay = RETRY_FIRST_MS;
    var backBusy = false, closed = false;
    var sending = null, retryTimer = null, retryDelay = RETRY_FIRST_MS, retryAt = 0, problem = null;
    var toastTimer = null;

    outbox.forEach(function (op) { if (op.kind === "vote") { votedHere[op.task] = true; } });

    // --- What is on screen -------------------------------------------------------------------

    function current() { return position === null ? queue[0] : trail[position]; }

    function fitWidth(task) {
      var box = el.picture.getBoundingClientRect();
      var width = Math.max(1, box.width), height = Math.max(1, box.height);
      return Math.max(1, Math.floor(Math.min(width, height * task.width / Math.max(1, task.height))));
    }

    /* The entry's <img>, made once: the browser picks the thumbnail from srcset for the size it
     * will have on screen, loads and decodes it ahead of time. */
    function picture(task) {
      if (!task._img && task.ready) {
        var img = new Image();
        img.decoding = "async";
        img.alt = S.entry;
        img.draggable = false;
        img.sizes = fitWidth(task) + "px";
        img.srcset = task.srcset;
        img.src = task.images.view.url;
        if (img.decode) { img.decode().catch(noop); }
        task._img = img;
      }
      return task._img;
    }

    function show() {
      var task = current();
      var state;
      if (closed) { state = "closed"; }
      else if (task) { state = "judging"; }
      else if (!fetching && !more && !outbox.length) { state = "done"; }
      else { state = "loading"; }
      root.setAttribute("data-state", state);  // first: the picture's size depends on the stage being shown
      byId("judge-done").hidden = state !== "done";
      if (task !== shown) {
        shown = task;
        shownAt = Date.now();
        el.picture.textContent = "";
        el.picture.removeAttribute("data-task");
        if (task) {
          el.picture.setAttribute("data-task", String(task.task));
          var img = picture(task);
          if (img) {
            var sizes = fitWidth(task) + "px";
            if (img.sizes !== sizes) { img.sizes = sizes; }
            el.picture.appendChild(img);
          }
        }
        if (!el.full.hidden) { if (task && task.ready) { showFull(task); } else { closeFull(); } }
      }
      el.message.hidden = !(state === "loading" || (task && !task.ready));
      el.message.textContent = state === "loading" ? (outbox.length ? S.flushing : S.loading) : S.not_ready;
      showVote(task);
    }

    function voteLabel(value) {
      if (data.kind === "yesno") { return value === 1 ? S.yes : S.no; }
      return value + " ★";
    }

    function showVote(task) {
      var value = task ? task.vote : null;
      el.vote.hidden = !(task && value !== null && value !== undefined);
      if (!el.vote.hidden) { el.vote.textContent = format(S.your_vote, { vote: voteLabel(value) }); }
      root.querySelectorAll("[data-vote]").forEach(function (button) {
        button.setAttribute("aria-pressed", String(value !== null && value !== undefined && Number(button.getAttribute("data-vote")) === value));
      });
    }

    function toast(text) {
      el.toast.textContent = text;
      el.toast.hidden = false;
      window.clearTimeout(toastTimer);
      toastTimer = window.setTimeout(function () { el.toast.hidden = true; }, 2500);
    }

    function alertMessage(text) {
      el.alert.textContent = text;
      el.alert.hidden = false;
    }

    // --- Progress and the save indicator -----------------------------------------------------------

    function unsavedNewVotes() {
      return outbox.filter(function (op) { return op.kind === "vote" && op.fresh; }).length;
    }

    function showProgress() {
      var done = Math.min(progress.total, progress.done + unsavedNewVotes());
      el.doneCount.textContent = String(done);
      el.totalCount.textContent = String(progress.total);
      el.bar.max = progress.total || 1;
      el.bar.value = done;
    }

    function showSaveState() {
      var waiting = outbox.length, state, text;
      if (!waiting) { state = "saved"; text = S.saved; }
      else if (problem === "logged_out" || problem === "reload") { state = "error"; text = S[problem]; }
      else if (retryTimer && navigator.onLine === false) { state = "offline"; text = format(S.offline, { n: waiting }); }
      else if (retryTimer) {
        state = "waiting";
        text = format(S.waiting, { n: waiting, s: Math.max(1, Math.ceil((retryAt - Date.now()) / 1000)) });
      } else { state = "saving"; text = S.saving; }
      el.save.setAttribute("data-state", state);
      if (el.save.textContent !== text) { el.save.textContent = text; }
    }

    // --- The juror's actions ----------------------------------------------------------------

    function tooSoon() { return Date.now() - shownAt < MIN_VIEW_MS; }

    function forward() {
      position += 1;
      if (position >= trail.length) { position = null; }
    }

    function vote(value) {
      var task = current();
      if (!task || closed || tooSoon()) { return; }
      enqueue({ kind: "vote", task: task.task, value: value, fresh: task.vote === null || task.vote === undefined });
      task.vote = value;
      if (position === null) {
        queue.shift();
        trail.push(task);
        votedHere[task.task] = true;
        var old = trail[trail.length - 1 - TRAIL_PICTURES_KEPT];
        if (old) { delete old._img; }
      } else {
        forward();
      }
      show();
      refill();
    }

    function skip() {
      var task = current();
      if (!task || closed || tooSoon()) { return; }
      if (position !== null) { forward(); show(); return; }  // going through earlier votes: just the next one
      queue.shift();
      enqueue({ kind: "skip", task: task.task });
      show();
      refill();
    }

    function back() {
      if (closed || backBusy) { return; }
      if (position === null && trail.length) { position = trail.length - 1; show(); return; }
      if (position !== null && position > 0) { position -= 1; show(); return; }
      // Further back than this page knows: the server knows the order of the juror's votes.
      var before = position === 0 ? trail[0].task : (queue[0] ? queue[0].task : null);
      backBusy = true;
      request("GET", data.api + "/previous" + (before ? "?before=" + before : "")).then(function (body) {
        backBusy = false;
        var task = body.task;
        var known = task && trail.some(function (t) { return t.task === task.task; });
        if (!task || known) { toast(S.no_previous); return; }
        picture(task);
        trail.unshift(task);
        position = 0;
        show();
      }, function (failure) {
        backBusy = false;
        toast(failure.message);
      });
    }

    // --- Fetching ahead -------------------------------------------------------------------------

    function pending(taskId) {
      return outbox.some(function (op) { return op.task === taskId; });
    }

    function accepts(task, sentAt) {
      if (votedHere[task.task] || pending(task.task)) { return false; }
      if (queue.some(function (t) { return t.task === task.task; })) { return false; }
      // An answer asked before a skip was acknowledged still has the skipped entry in its old place.
      return !(skipAckedAt[task.task] > sentAt);
    }

    function take(tasks, sentAt) {
      var stale = 0;
      tasks.forEach(function (task) {
        if (accepts(task, sentAt)) {
          queue.push(task);
          picture(task);
        } else if (skipAckedAt[task.task] > sentAt) {
          stale += 1;
        }
      });
      return stale;
    }

    function refill() {
      if (fetching || closed || refillTimer || queue.length > data.prefetch) { return; }
      var limit = Math.min(50, data.prefetch + 1 + queue.length + outbox.length);
      var sentAt = acks;
      fetching = true;
      request("GET", data.api + "/next?limit=" + limit).then(function (body) {
        fetching = false;
        refillDelay = RETRY_FIRST_MS;
        var stale = take(body.tasks, sentAt);
        more = body.tasks.length >= limit;
        if (sentAt === acks && !sending && !outbox.length) { progress = body.progress; showProgress(); }
        show();
        if (stale && !queue.length) { refill(); }
      }, function (failure) {
        fetching = false;
        if (failure.code === "round_not_open") { roundClosed(); return; }
        // Offline or the server is busy: try again a little later.
        refillTimer = window.setTimeout(function () { refillTimer = null; refill(); }, refillDelay);
        refillDelay = Math.min(refillDelay * 2, RETRY_MAX_MS);
        show();
      });
    }

    // --- The outbox -----------------------------------------------------------------------------

    function enqueue(op) {
      // A vote changed before it was sent is sent once, with the last value, in its place in line.
      var waiting = outbox.filter(function (o) { return o !== sending && o.kind === "vote" && o.task === op.task; })[0];
      if (waiting && op.kind === "vote") {
        waiting.value = op.value;
      } else {
        outbox.push(op);
      }
      store.save(outbox);
      showProgress();
      flush();
    }

    function remove(op) {
      outbox = outbox.filter(function (o) { return o !== op; });
      store.save(outbox);
    }

    function flush() {
      if (sending || retryTimer || closed || !outbox.length) { showSaveState(); return; }
      var op = outbox[0];
      sending = op;
      showSaveState();
      var body = op.kind === "vote" ? { value: op.value } : {};
      request("POST", data.api + "/tasks/" + op.task + "/" + op.kind, body).then(function (answer) {
        sending = null;
        remove(op);
        acks += 1;
        if (op.kind === "skip") { skipAckedAt[op.task] = acks; }
        retryDelay = RETRY_FIRST_MS;
        problem = null;
        progress = answer.progress;
        showProgress();
        flush();
        if (queue.length <= data.prefetch) { more = true; refill(); }
        show();
      }, function (failure) {
        sending = null;
        if ((failure.code && FINAL[failure.code]) || failure.status === 403) {
          remove(op);
          if (failure.code === "round_not_open") { roundClosed(); return; }
          alertMessage(format(S.rejected, { message: failure.message }));
          showProgress();
          flush();
          show();
          return;
        }
        problem = failure.status === 401 ? "logged_out" : failure.status === 400 ? "reload" : null;
        var wait = failure.retryAfter ? failure.retryAfter * 1000 : retryDelay;
        retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
        retryAt = Date.now() + wait;
        retryTimer = window.setTimeout(function () { retryTimer = null; flush(); }, wait);
        showSaveState();
      });
    }

    function retryNow() {
      if (retryTimer) {
        window.clearTimeout(retryTimer);
        retryTimer = null;
        retryDelay = RETRY_FIRST_MS;
        flush();
      }
      if (refillTimer) {
        window.clearTimeout(refillTimer);
        refillTimer = null;
        refill();
      }
    }

    function roundClosed() {
      closed = true;
      outbox = [];
      store.save(outbox);
      alertMessage(S.closed);
      showSaveState();
      show();
    }

    // --- The full size view ------------------------------------------------------------------

    function showFull(task) {
      el.fullImage.src = task.images.view.url;
      el.full.classList.remove("actual-size");
    }

    function openFull() {
      var task = current();
      if (!task || !task.ready) { return; }
      showFull(task);
      el.full.hidden = false;
      if (el.full.requestFullscreen && !document.fullscreenElement) { el.full.requestFullscreen().catch(noop); }
    }

    function closeFull() {
      el.full.hidden = true;
      if (document.fullscreenElement) { document.exitFullscreen().catch(noop); }
    }

    function toggleFull() { if (el.full.hidden) { openFull(); } else { closeFull(); } }

    function toggleHelp() {
      if (el.help.open) { el.help.close(); } else { el.help.showModal(); }
    }

    // --- Keys, buttons, swipes --------------------------------------------------------------------

    var YES_NO_KEYS = { y: 1, Y: 1, ArrowUp: 1, n: 0, N: 0, ArrowDown: 0 };

    function actionOf(key) {
      if (data.kind === "rating" && /^[1-5]$/.test(key)) { return function () { vote(Number(key)); }; }
      if (data.kind === "yesno" && key in YES_NO_KEYS) { return function () { vote(YES_NO_KEYS[key]); }; }
      if (key === "s" || key === "S" || key === "ArrowRight") { return skip; }
      if (key === "ArrowLeft") { return back; }
      if (key === "f" || key === "F") { return toggleFull; }
      if (key === "?") { return toggleHelp; }
      return null;
    }

    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) { return; }
      var target = event.target;
      if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) { return; }
      if (el.help.open) {  // the dialog closes itself on Escape
        if (event.key === "?") { event.preventDefault(); el.help.close(); }
        return;
      }
      if (event.key === "Escape" && !el.full.hidden) { event.preventDefault(); closeFull(); return; }
      var action = actionOf(event.key);
      if (!action) { return; }
      event.preventDefault();
      if (event.repeat) { return; }  // a held key acts once
      action();
    });

    root.addEventListener("click", function (event) {
      var button = event.target.closest("[data-vote], [data-action]");
      if (!button) { return; }
      if (button.hasAttribute("data-vote")) { vote(Number(button.getAttribute("data-vote"))); return; }
      var name = button.getAttribute("data-action");
      if (name === "skip") { skip(); }
      else if (name === "back") { back(); }
      else if (name === "full") { toggleFull(); }
      else if (name === "help") { toggleHelp(); }
    });

    el.picture.addEventListener("click", openFull);
    el.fullImage.addEventListener("click", function () { el.full.classList.toggle("actual-size"); });
    document.addEventListener("fullscreenchange", function () {
      if (!document.fullscreenElement && !el.full.hidden) { el.full.hidden = true; }
    });

    var swipe = null;
    el.stage.addEventListener("pointerdown", function (event) {
      swipe = event.pointerType === "mouse" ? null : { x: event.clientX, y: event.clientY, id: event.pointerId };
    });
    el.stage.addEventListener("pointercancel", function () { swipe = null; });
    el.stage.addEventListener("pointerup", function (event) {
      if (!swipe || event.pointerId !== swipe.id) { return; }
      var dx = event.clientX - swipe.x, dy = event.clientY - swipe.y;
      swipe = null;
      if (Math.abs(dx) > SWIPE_PX && Math.abs(dx) > 2 * Math.abs(dy)) {
        if (dx < 0) { skip(); } else { back(); }
      }
    });

    window.addEventListener("online", retryNow);
    window.addEventListener("offline", showSaveState);
    window.addEventListener("resize", function () {
      var task = current();
      if (task && task._img) { task._img.sizes = fitWidth(task) + "px"; }
    });
    window.setInterval(function () { if (retryTimer) { showSaveState(); } }, 1000);

    // --- Start: the entries the page came with, and whatever an earlier visit left unsent ------------

    take(data.tasks, 0);
    more = data.tasks.length > 0 || !progress.finished;
    showProgress();
    show();
    flush();
    refill();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("judge");
    var data = document.getElementById("judge-data");
    if (root && data) { start(root, JSON.parse(data.textContent)); }
  });
})();

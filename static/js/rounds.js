/* The organizers' jury pages: what a script adds to forms that work without it.
 *
 * - Round forms: the "top N" field shows only for ranking rounds.
 * - New round: as the rule or threshold changes, ask the server how many entries it would keep
 *   (GET …/preview?rule=…&value=…, which writes nothing) and say so.
 * - Buttons marked data-once are disabled once their form is sent (the server ignores a second
 *   "open" or "close" anyway; this only spares the wait).
 * - Winners: move rows by dragging, with the ↑/↓ buttons, or with Alt+↑/↓ on the focused row;
 *   the places then follow the order. "Add to the list" / "Take off the list" move a row between
 *   the list and the other candidates. Saving is the ordinary form post.
 *
 * No inline script anywhere (strict Content-Security-Policy): the page passes URLs and the
 * translated texts in data- attributes.
 */
(function () {
  "use strict";

  var PREVIEW_DELAY = 250; // ms after the last keystroke

  // --- Round forms: the kind decides whether "top N" applies ---------------------------------

  function setUpKindSelect(form) {
    var select = form.querySelector("[data-kind-select]");
    if (!select) { return; }
    function update() {
      form.querySelectorAll(".ranking-only").forEach(function (field) {
        field.hidden = select.value !== "ranking";
      });
    }
    select.addEventListener("change", update);
    update();
  }

  // --- New round: the live preview of the selection rule ------------------------------------

  function setUpPreview(fieldset) {
    var url = fieldset.getAttribute("data-preview-url");
    var keptText = fieldset.getAttribute("data-kept-text");
    var errorText = fieldset.getAttribute("data-error-text");
    var output = fieldset.querySelector("[data-preview-output]");
    var value = fieldset.querySelector("input[name=value]");
    var numbers = new Intl.NumberFormat(document.documentElement.lang || undefined);
    var timer = null;
    var asked = 0; // answers to older questions are dropped

    function rule() {
      var checked = fieldset.querySelector("input[name=rule]:checked");
      return checked ? checked.value : "";
    }

    function say(text, isError) {
      output.textContent = text;
      output.classList.toggle("is-error", !!isError);
    }

    function ask() {
      var typed = value.value.trim().replace(",", ".");
      if (!typed || !rule()) { say(""); return; }
      var question = ++asked;
      var query = "?rule=" + encodeURIComponent(rule()) + "&value=" + encodeURIComponent(typed);
      fetch(url + query, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          return response.json().then(function (data) { return { ok: response.ok, data: data }; });
        })
        .then(function (answer) {
          if (question !== asked) { return; }
          if (!answer.ok) { say(answer.data.message || errorText, true); return; }
          say(keptText.replace("{kept}", numbers.format(answer.data.kept))
                      .replace("{total}", numbers.format(answer.data.entries)));
        })
        .catch(function () {
          if (question === asked) { say(errorText, true); }
        });
    }

    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, PREVIEW_DELAY);
    }

    value.addEventListener("input", later);
    fieldset.querySelectorAll("input[name=rule]").forEach(function (radio) {
      radio.addEventListener("change", ask);
    });
  }

  // --- Buttons pressed once -------------------------------------------------------------------

  function setUpOnce(button) {
    var form = button.form;
    if (!form) { return; }
    form.addEventListener("submit", function () {
      window.setTimeout(function () { button.disabled = true; }, 0); // after the browser took its value
    });
  }

  // --- Winners: ordering the list ---------------------------------------------------------------

  function setUpWinners(form) {
    var list = form.querySelector("[data-winners-list]");
    var candidates = form.querySelector("[data-candidates]");
    var dragged = null;

    function rows(body) {
      return Array.prototype.slice.call(body.querySelectorAll("tr[data-winner-row]"));
    }

    function placeInput(row) {
      return row.querySelector(".place-input");
    }

    // The places follow the order of the list: 1, 2, 3 …
    function renumber() {
      rows(list).forEach(function (row, index) {
        placeInput(row).value = String(index + 1);
      });
      rows(candidates).forEach(function (row) { placeInput(row).value = ""; });
      rows(list).concat(rows(candidates)).forEach(function (row) {
        var toggle = row.querySelector("[data-toggle]");
        var inList = row.parentNode === list;
        toggle.textContent = toggle.getAttribute(inList ? "data-remove-text" : "data-add-text");
        row.querySelector(".move-buttons").hidden = !inList;
        row.draggable = inList;
      });
    }

    function move(row, direction) {
      if (row.parentNode !== list) { return; }
      var sibling = direction < 0 ? row.previousElementSibling : row.nextElementSibling;
      if (!sibling) { return; }
      list.insertBefore(row, direction < 0 ? sibling : sibling.nextElementSibling);
      renumber();
    }

    function toggle(row) {
      if (row.parentNode === list) {
        var divider = candidates.querySelector("tr.divider");
        candidates.insertBefore(row, divider ? divider.nextElementSibling : candidates.firstChild);
      } else {
        list.appendChild(row);
      }
      renumber();
    }

    form.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-move], button[data-toggle]");
      if (!button) { return; }
      var row = button.closest("tr[data-winner-row]");
      if (button.hasAttribute("data-toggle")) {
        toggle(row);
      } else {
        move(row, button.getAttribute("data-move") === "up" ? -1 : 1);
      }
      button.focus();
    });

    form.addEventListener("keydown", function (event) {
      if (!event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) { return; }
      var row = event.target.closest("tr[data-winner-row]");
      if (!row || row.parentNode !== list) { return; }
      event.preventDefault();
      move(row, event.key === "ArrowUp" ? -1 : 1);
      event.target.focus();
    });

    list.addEventListener("dragstart", function (event) {
      dragged = event.target.closest("tr[data-winner-row]");
      if (!dragged) { return; }
      dragged.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", ""); // Firefox starts a drag only with some data
    });

    list.addEventListener("dragover", function (event) {
      var over = event.target.closest("tr[data-winner-row]");
      if (!dragged || !over || over === dragged) { return; }
      event.preventDefault();
      rows(list).forEach(function (row) { row.classList.toggle("drop-target", row === over); });
    });

    list.addEventListener("drop", function (event) {
      var over = event.target.closest("tr[data-winner-row]");
      if (!dragged || !over) { return; }
      event.preventDefault();
      var after = rows(list).indexOf(over) > rows(list).indexOf(dragged);
      list.insertBefore(dragged, after ? over.nextElementSibling : over);
      renumber();
    });

    list.addEventListener("dragend", function () {
      if (dragged) { dragged.classList.remove("dragging"); }
      rows(list).forEach(function (row) { row.classList.remove("drop-target"); });
      dragged = null;
    });

    form.querySelectorAll("[data-toggle]").forEach(function (button) { button.hidden = false; });
    rows(list).forEach(function (row) {
      row.querySelector(".move-buttons").hidden = false;
      row.draggable = true;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-round-form]").forEach(setUpKindSelect);
    document.querySelectorAll("fieldset[data-preview-url]").forEach(setUpPreview);
    document.querySelectorAll("button[data-once]").forEach(setUpOnce);
    document.querySelectorAll("[data-winners-form]").forEach(setUpWinners);
  });
})();

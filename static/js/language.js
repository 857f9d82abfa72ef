/* The language switcher in every page's header: send the form as soon as a language is chosen.
 *
 * Without script the form has its own button; with script the button is not needed and hides.
 */
(function () {
  "use strict";

  function start(form) {
    var choice = form.querySelector("select[name=language]");
    var button = form.querySelector("button[type=submit]");
    if (!choice) {
      return;
    }
    if (button) {
      button.hidden = true;
    }
    choice.addEventListener("change", function () {
      form.submit();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.language-switcher").forEach(start);
  });
})();

/* The contest form: the slug follows the name until someone types one, the time zone list starts at
 * the browser's zone and can be searched. Without script the form works the same, with UTC first.
 */
(function () {
  "use strict";

  // Cyrillic (Kazakh and Russian) to Latin letters, for slugs made from a name.
  var LATIN = {
    "а": "a", "ә": "a", "б": "b", "в": "v", "г": "g", "ғ": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "i", "к": "k", "қ": "q", "л": "l", "м": "m", "н": "n", "ң": "n", "о": "o",
    "ө": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ұ": "u", "ү": "u", "ф": "f", "х": "h",
    "һ": "h", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sch", "ъ": "", "ы": "y", "і": "i", "ь": "", "э": "e",
    "ю": "yu", "я": "ya"
  };

  function slugFrom(name) {
    var text = name.toLowerCase().split("").map(function (ch) {
      return Object.prototype.hasOwnProperty.call(LATIN, ch) ? LATIN[ch] : ch;
    }).join("");
    text = text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
    return text.replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 64).replace(/-+$/, "");
  }

  function followName(form) {
    var name = form.querySelector("input[name=name]");
    var slug = form.querySelector("input[name=slug]");
    if (!name || !slug) { return; }
    var typed = slug.value !== "" && slug.value !== slugFrom(name.value);
    slug.addEventListener("input", function () { typed = slug.value !== ""; });
    name.addEventListener("input", function () {
      if (!typed) { slug.value = slugFrom(name.value); }
    });
  }

  function zoneList(select) {
    if (select.getAttribute("data-browser-zone") === "yes") {
      var browserZone = "";
      try { browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { browserZone = ""; }
      if (browserZone && select.querySelector('option[value="' + browserZone + '"]')) { select.value = browserZone; }
    }
    var search = document.querySelector('[data-zone-search="' + select.id + '"]');
    if (!search) { return; }
    search.hidden = false;
    search.addEventListener("input", function () {
      var words = search.value.toLowerCase().replace(/_/g, " ").split(/\s+/).filter(Boolean);
      var first = null;
      Array.prototype.forEach.call(select.options, function (option) {
        var label = option.textContent.toLowerCase().replace(/_/g, " ");
        var match = words.every(function (word) { return label.indexOf(word) !== -1; });
        option.hidden = !match;
        if (match && !first) { first = option; }
      });
      if (first && select.selectedOptions[0] && select.selectedOptions[0].hidden) { select.value = first.value; }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.contest-form").forEach(followName);
    document.querySelectorAll("select[name=timezone]").forEach(zoneList);
  });
})();

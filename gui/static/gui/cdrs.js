/* The CDR list: small enhancements; the page works without them (plain GET form and links). */
"use strict";
(function () {
  var form = document.getElementById("cdr-search");
  if (!form) {
    return;
  }
  // Send only the fields that hold a value: the URL of a search stays short and readable
  // (the server ignores empty fields anyway).
  form.addEventListener("submit", function () {
    var fields = form.querySelectorAll("input, select");
    var emptied = [];
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (field.type === "checkbox" || field.type === "hidden" || field.disabled) {
        continue;
      }
      var empty = field.tagName === "SELECT" && field.multiple
        ? field.selectedOptions.length === 0
        : !String(field.value).trim();
      if (empty) {
        field.disabled = true;
        emptied.push(field);
      }
    }
    // re-enable after the browser has read the form (Back restores a usable form)
    window.setTimeout(function () {
      emptied.forEach(function (field) { field.disabled = false; });
    }, 0);
  });
})();

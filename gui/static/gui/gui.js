/* vmgui GUI: small progressive enhancements shared by every page (pages work without it). */
"use strict";
(function () {
  // <form data-autosubmit>: submit when a <select> inside changes (keyboard users still have
  // the submit button).
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.hasAttribute("data-autosubmit") && event.target.tagName === "SELECT") {
      form.requestSubmit ? form.requestSubmit() : form.submit();
    }
  });
})();

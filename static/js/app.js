// Small progressive enhancements. Everything works without this file.
// No inline handlers and no eval: the Content-Security-Policy forbids both.
(function () {
  "use strict";

  function dismissLater(toast) {
    if (toast.dataset.timer) return;
    toast.dataset.timer = "1";
    window.setTimeout(function () { toast.remove(); }, 6000);
  }

  function wireToasts(root) {
    (root || document).querySelectorAll(".toast").forEach(dismissLater);
  }

  document.addEventListener("click", function (event) {
    var close = event.target.closest(".toast-close");
    if (close) close.closest(".toast").remove();
    // Close an open user menu when clicking elsewhere.
    document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
        menu.removeAttribute("open");
        menu.querySelector("summary").focus();
      });
    }
  });

  document.addEventListener("DOMContentLoaded", function () { wireToasts(document); });
  document.addEventListener("htmx:afterSettle", function () { wireToasts(document); });

  // Move focus to the first invalid field after a form comes back with errors.
  document.addEventListener("htmx:afterSwap", function (event) {
    var invalid = event.detail.target && event.detail.target.querySelector
      ? event.detail.target.querySelector("[aria-invalid='true']") : null;
    if (invalid && event.detail.xhr && event.detail.xhr.status === 422) invalid.focus();
  });

  // Attachments (core): show how far an upload has gone on the form's <progress>.
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest ? event.target.closest("form") : null;
    var bar = form ? form.querySelector("progress.upload-progress") : null;
    if (bar && event.detail.lengthComputable) {
      bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
    }
  });
})();

// Copy buttons: <button type="button" class="copy-button" data-copy="#field-id" hidden>.
// The button stays hidden without JavaScript (the field can still be selected by hand);
// this file shows it and copies the field's value, then says so in the button's
// status (an element with role="status" next to it). No inline handlers (CSP).
(function () {
  "use strict";
  if (window.mktappCopy) { reveal(document); return; }
  window.mktappCopy = true;

  function reveal(root) {
    (root || document).querySelectorAll("button[data-copy][hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function say(button, ok) {
    var status = button.parentNode.querySelector("[role='status']");
    var text = ok ? button.dataset.copied : button.dataset.failed;
    if (status) status.textContent = text || "";
    if (button.dataset.timer) window.clearTimeout(Number(button.dataset.timer));
    button.dataset.timer = String(window.setTimeout(function () {
      if (status) status.textContent = "";
    }, 4000));
  }

  // Without a secure context (an intranet over http) there is no Clipboard API: select
  // the text and use the older copy command.
  function copyBySelection(field) {
    field.focus();
    field.select();
    try { return document.execCommand("copy"); } catch (e) { return false; }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-copy]") : null;
    if (!button) return;
    var field = document.querySelector(button.dataset.copy);
    if (!field) return;
    var text = field.value || field.textContent;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { say(button, true); },
        function () { say(button, copyBySelection(field)); }
      );
    } else {
      say(button, copyBySelection(field));
    }
  });

  reveal(document);
  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  document.addEventListener("htmx:afterSettle", function (event) { reveal(event.target); });
})();

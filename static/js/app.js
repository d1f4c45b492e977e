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

  // Phones: a list table becomes a stack of cards on a narrow screen (static/css/app.css,
  // "phones"). Each cell gets its column's header text as data-label, which the CSS shows
  // before the value. Every table.data is a list unless it has row headers in its body
  // (a matrix of figures, a comparison), no header row, is hidden, or lays itself out
  // (.stack, data-no-stack): those stay tables and scroll inside their box.
  function headerText(cell) {
    var copy = cell.cloneNode(true);
    copy.querySelectorAll("[aria-hidden='true'], .sort-mark").forEach(function (el) { el.remove(); });
    return copy.textContent.replace(/\s+/g, " ").trim();
  }

  function columnLabels(head) {
    var labels = [], spans = [];
    Array.prototype.forEach.call(head.rows, function (row) {
      var col = 0;
      Array.prototype.forEach.call(row.cells, function (cell) {
        while (spans[col] > 0) { spans[col] -= 1; col += 1; }
        var text = headerText(cell);
        for (var i = 0; i < cell.colSpan; i += 1) {
          if (text) labels[col + i] = labels[col + i] && labels[col + i] !== text ? labels[col + i] + " · " + text : text;
          spans[col + i] = cell.rowSpan - 1;
        }
        col += cell.colSpan;
      });
      for (var c = col; c < spans.length; c += 1) if (spans[c] > 0) spans[c] -= 1;
    });
    return labels;
  }

  function stackable(table) {
    return table.tHead && !table.classList.contains("stack") &&
      !table.classList.contains("visually-hidden") && !table.hasAttribute("data-no-stack") &&
      !table.querySelector(":scope > tbody > tr > th");
  }

  function labelTable(table) {
    if (!stackable(table)) return;
    var labels = columnLabels(table.tHead);
    Array.prototype.forEach.call(table.querySelectorAll(":scope > tbody > tr, :scope > tfoot > tr"), function (row) {
      var col = 0;
      Array.prototype.forEach.call(row.cells, function (cell) {
        if (cell.colSpan === 1 && labels[col] && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", labels[col]);
        col += cell.colSpan;
      });
    });
    table.classList.add("stackable");
  }

  function labelTables(root) {
    if (!root || !root.querySelectorAll) return;
    var table = root.closest ? root.closest("table.data") : null;
    if (table) labelTable(table);
    root.querySelectorAll("table.data").forEach(labelTable);
  }

  document.addEventListener("DOMContentLoaded", function () { labelTables(document.body); });
  document.addEventListener("htmx:load", function (event) { labelTables(event.detail.elt || event.target); });

  // Attachments (core): show how far an upload has gone on the form's <progress>.
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest ? event.target.closest("form") : null;
    var bar = form ? form.querySelector("progress.upload-progress") : null;
    if (bar && event.detail.lengthComputable) {
      bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
    }
  });

  // A form being sent cannot be sent again: its submit buttons are marked busy (they
  // take no clicks: app.css) until the answer comes; a plain form's are also disabled a
  // tick after it is sent (then the button pressed has gone with the form). htmx forms
  // are not disabled: htmx reads the button pressed while it sends. The server keeps
  // each form's one-time token besides, so a second sending never makes a second record.
  function busy(form, on, disable) {
    if (!form || !form.querySelectorAll) return;
    form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]").forEach(function (b) {
      if (on) b.setAttribute("aria-busy", "true"); else b.removeAttribute("aria-busy");
      if (on && disable && !b.disabled) { b.disabled = true; b.dataset.busyDisabled = "1"; }
      if (!on && b.dataset.busyDisabled) { b.disabled = false; delete b.dataset.busyDisabled; }
    });
  }
  function formOf(elt) {
    return elt && elt.closest ? (elt.tagName === "FORM" ? elt : elt.closest("form")) : null;
  }
  var sending = new WeakMap();  // request -> the form it sends (the form may be swapped out)
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    var submits = elt && (elt.tagName === "FORM" || elt.matches("button, input[type=submit]"));
    var form = submits ? formOf(elt) : null;  // a form sent, not a field asking for a hint
    if (form && (event.detail.requestConfig || {}).verb !== "get") {
      sending.set(event.detail.xhr, form);
      busy(form, true, false);
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    busy(sending.get(event.detail.xhr), false);
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || (form.method || "").toLowerCase() !== "post") return;
    window.setTimeout(function () { busy(form, true, true); }, 0);
    // An answer that is a download leaves the page as it is: give the buttons back.
    window.setTimeout(function () { busy(form, false); }, 8000);
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) document.querySelectorAll("form").forEach(function (f) { busy(f, false); });
  });
})();

// Record pickers (core/pickers.py, macro picker_box in templates/_macros/forms.html).
// The combobox pattern: a text box (role=combobox) over a listbox that htmx fills from
// the server as one types; arrow keys move through the options, Enter chooses, Escape
// closes. Choosing puts the record's id in the hidden input the form submits.
// Without this file the box is plain text the server resolves. No inline handlers.
(function () {
  "use strict";

  function parts(el) {
    var root = el && el.closest ? el.closest("[data-picker]") : null;
    if (!root) return null;
    return {
      root: root,
      input: root.querySelector("[role=combobox]"),
      value: root.querySelector("[data-picker-value]"),
      pop: root.querySelector(".picker-pop"),
      list: root.querySelector("[role=listbox]")
    };
  }

  function options(p) {
    return Array.prototype.slice.call(p.list.querySelectorAll("[role=option]"));
  }

  function isOpen(p) {
    return p.input.getAttribute("aria-expanded") === "true";
  }

  function open(p) {
    p.pop.hidden = false;
    p.root.classList.add("open");
    p.input.setAttribute("aria-expanded", "true");
  }

  function close(p) {
    p.pop.hidden = true;
    p.root.classList.remove("open");
    p.input.setAttribute("aria-expanded", "false");
    activate(p, -1);
  }

  function activeIndex(p) {
    var opts = options(p);
    for (var i = 0; i < opts.length; i++) {
      if (opts[i].getAttribute("aria-selected") === "true") return i;
    }
    return -1;
  }

  function activate(p, index) {
    var opts = options(p);
    opts.forEach(function (option, i) {
      var on = i === index;
      option.setAttribute("aria-selected", on ? "true" : "false");
      option.classList.toggle("active", on);
    });
    if (index >= 0 && opts[index]) {
      p.input.setAttribute("aria-activedescendant", opts[index].id);
      opts[index].scrollIntoView({ block: "nearest" });
    } else {
      p.input.removeAttribute("aria-activedescendant");
    }
  }

  function choose(p, option) {
    p.value.value = option.getAttribute("data-value");
    p.input.value = option.getAttribute("data-label");
    p.input.setAttribute("data-chosen", p.input.value);
    // The select of matches (after a search without a choice) is no longer needed.
    var matches = p.root.querySelector(".picker-matches");
    if (matches) matches.remove();
    close(p);
    p.value.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function move(p, step) {
    var opts = options(p);
    if (!opts.length) return;
    if (!isOpen(p)) open(p);
    var i = activeIndex(p);
    i = i < 0 ? (step > 0 ? 0 : opts.length - 1) : (i + step + opts.length) % opts.length;
    activate(p, i);
  }

  document.addEventListener("keydown", function (event) {
    if (!event.target.matches || !event.target.matches("[data-picker] [role=combobox]")) return;
    var p = parts(event.target);
    if (!p) return;
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        if (!options(p).length && window.htmx) window.htmx.trigger(p.input, "focus");
        move(p, 1);
        break;
      case "ArrowUp":
        event.preventDefault();
        move(p, -1);
        break;
      case "Enter":
        if (!isOpen(p)) return; // the form submits; the server reads what was typed
        var opts = options(p);
        var i = activeIndex(p);
        if (i < 0 && opts.length === 1) i = 0;
        if (i >= 0) {
          event.preventDefault();
          choose(p, opts[i]);
        }
        break;
      case "Escape":
        if (isOpen(p)) {
          event.preventDefault();
          close(p);
        } else if (p.value.value && p.input.getAttribute("data-chosen") !== null) {
          p.input.value = p.input.getAttribute("data-chosen");
        }
        break;
      case "Tab":
        close(p);
        break;
    }
  });

  // Typing changes the text: the record chosen before no longer stands.
  document.addEventListener("input", function (event) {
    if (!event.target.matches || !event.target.matches("[data-picker] [role=combobox]")) return;
    var p = parts(event.target);
    if (p && event.target.value !== event.target.getAttribute("data-chosen")) p.value.value = "";
  });

  // Keep the focus in the box while an option is clicked, then choose it.
  document.addEventListener("mousedown", function (event) {
    if (event.target.closest && event.target.closest("[data-picker] [role=option]")) {
      event.preventDefault();
    }
  });
  document.addEventListener("click", function (event) {
    var option = event.target.closest ? event.target.closest("[data-picker] [role=option]") : null;
    var p = option ? parts(option) : null;
    if (p) choose(p, option);
  });

  document.addEventListener("focusout", function (event) {
    var p = parts(event.target);
    if (p && !(event.relatedTarget && p.root.contains(event.relatedTarget))) close(p);
  });

  // New options arrived: show them under the box that asked (if it still has the focus).
  document.addEventListener("htmx:afterSwap", function (event) {
    var list = event.detail.target;
    if (!list || list.getAttribute("role") !== "listbox") return;
    var p = parts(list);
    if (!p || document.activeElement !== p.input) return;
    open(p);
    activate(p, -1);
  });

  // Remember the label a page was drawn with, so Escape can put it back.
  function remember(root) {
    (root || document).querySelectorAll("[data-picker] [role=combobox]").forEach(function (input) {
      var p = parts(input);
      if (p && p.value.value && !input.hasAttribute("data-chosen")) {
        input.setAttribute("data-chosen", input.value);
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { remember(document); });
  document.addEventListener("htmx:afterSettle", function () { remember(document); });
})();

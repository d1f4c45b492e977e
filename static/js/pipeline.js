// The pipeline board (sales/pipeline.html): drag a card to another stage's column.
// A drop sets the card's stage select and posts the card's form exactly as choosing in
// the select does (htmx, on change; a plain submit without htmx), so the server sees one
// kind of move whatever the person did. Keyboard users keep the select and the ←/→
// buttons. No inline handlers, no eval (the Content-Security-Policy forbids both).
// The layout loads this in the body, so a boosted visit runs it again: wire once.
(function () {
  "use strict";
  if (window.mktappPipelineBoard) return;
  window.mktappPipelineBoard = true;

  var dragged = null;

  function selectOf(card) {
    return card.querySelector("form.deal-move select.deal-select");
  }

  // Cards the user may move (they carry the move form) become draggable.
  function prepare(root) {
    if (!root || !root.querySelectorAll) return;
    root.querySelectorAll(".deal-card").forEach(function (card) {
      if (selectOf(card)) card.setAttribute("draggable", "true");
    });
    var board = root.id === "pipeline_board" ? root : root.querySelector("#pipeline_board");
    if (board) {
      var note = board.querySelector(".board-note");
      if (note) note.hidden = false;
    }
  }

  function columnAt(target) {
    return target && target.closest ? target.closest(".board-col[data-stage]") : null;
  }

  function clearTargets() {
    document.querySelectorAll(".board-col.is-drop-target").forEach(function (col) {
      col.classList.remove("is-drop-target");
    });
  }

  function showMessage(text) {
    var board = document.getElementById("pipeline_board");
    if (!board || !text) return;
    var alert = board.querySelector(".form-alert");
    if (!alert) {
      alert = document.createElement("div");
      alert.className = "form-alert";
      alert.setAttribute("role", "alert");
      board.insertBefore(alert, board.firstChild);
    }
    alert.textContent = text;
  }

  function move(card, stage) {
    var select = selectOf(card);
    if (!select || stage === card.getAttribute("data-stage")) return;
    var known = Array.prototype.some.call(select.options, function (o) { return o.value === stage; });
    if (!known) {
      var board = document.getElementById("pipeline_board");
      showMessage(board ? board.getAttribute("data-drop-invalid") : "");
      return;
    }
    select.value = stage;
    if (window.htmx) {
      select.dispatchEvent(new Event("change", { bubbles: true }));
    } else {
      select.form.requestSubmit();
    }
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest ? event.target.closest(".deal-card[draggable='true']") : null;
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.id);
    card.classList.add("is-dragging");
  });

  document.addEventListener("dragover", function (event) {
    var col = dragged ? columnAt(event.target) : null;
    if (!col) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!col.classList.contains("is-drop-target")) {
      clearTargets();
      col.classList.add("is-drop-target");
    }
  });

  document.addEventListener("dragleave", function (event) {
    var col = columnAt(event.target);
    if (col && !col.contains(event.relatedTarget)) col.classList.remove("is-drop-target");
  });

  document.addEventListener("drop", function (event) {
    var col = dragged ? columnAt(event.target) : null;
    if (!col) return;
    event.preventDefault();
    var card = dragged;
    clearTargets();
    move(card, col.getAttribute("data-stage"));
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("is-dragging");
    dragged = null;
    clearTargets();
  });

  // After a move the board comes back with the card on top of its new column: bring it
  // into sight (on a phone its column may be off to the side).
  function revealMoved() {
    var moved = document.querySelector("#pipeline_board .deal-card.is-moved");
    if (moved) moved.scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  document.addEventListener("htmx:load", function (event) { prepare(event.detail.elt); });
  document.addEventListener("htmx:afterSettle", function (event) {
    var elt = event.detail.elt;
    if (elt && (elt.id === "pipeline_board" || (elt.querySelector && elt.querySelector("#pipeline_board")))) revealMoved();
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { prepare(document.body); });
  } else {
    prepare(document.body);
  }
})();

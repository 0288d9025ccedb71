// Crisis room: copy the review's read-only link, confirm before closing an incident, and
// keyboard shortcuts on the incident page ("u": status update, "n": note, "c": checklist).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.getElementById(button.dataset.copy);
    if (!field) return;
    field.select();
    if (navigator.clipboard) {
      navigator.clipboard.writeText(field.value).then(function () { button.textContent = "Copied"; });
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
  var keys = { u: "upd-text", n: "note-text", c: "checklist" };
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    var id = keys[event.key];
    var el = id && document.getElementById(id);
    if (!el) return;
    event.preventDefault();
    el.scrollIntoView({ block: "center" });
    if (el.focus) el.focus();
  });
})();

// The live section refreshes itself every 30 s; never while someone is using it (an open
// "Open incident" form, a focused field), so no half-typed title is lost.
document.addEventListener("htmx:beforeRequest", function (event) {
  var live = document.getElementById("live");
  if (!live || event.detail.elt !== live) return;
  if (live.querySelector("details[open]") || live.contains(document.activeElement)) {
    event.preventDefault();
  }
});

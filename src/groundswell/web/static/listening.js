// Listening pages: keyboard shortcuts on the stream and select-all on the quarantine.
//   /      focus the query box
//   j / k  next / previous mention;  Enter (on a focused mention) opens it
(function () {
  "use strict";

  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }

  function move(step) {
    var links = Array.prototype.slice.call(document.querySelectorAll(".mention-list .mention-link"));
    if (!links.length) return;
    var at = links.indexOf(document.activeElement);
    var next = at < 0 ? 0 : Math.min(links.length - 1, Math.max(0, at + step));
    links[next].focus();
    links[next].closest(".mention").scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("keydown", function (evt) {
    if (evt.ctrlKey || evt.metaKey || evt.altKey || typing(evt.target)) return;
    if (evt.key === "/") {
      var q = document.getElementById("f-q");
      if (q) { evt.preventDefault(); q.focus(); q.select(); }
    } else if (evt.key === "j") {
      move(1);
    } else if (evt.key === "k") {
      move(-1);
    }
  });

  document.addEventListener("change", function (evt) {
    var box = evt.target;
    if (!box.matches || !box.matches("[data-select-all]")) return;
    document.querySelectorAll('input[type="checkbox"][name="' + box.dataset.selectAll + '"]').forEach(function (c) {
      c.checked = box.checked;
    });
  });
})();

// Groundswell: the little behaviour the pages need beyond htmx. No inline handlers, so the
// Content-Security-Policy can drop 'unsafe-inline' for scripts one day.
"use strict";

// A form with data-confirm asks first. The message is a plain attribute (escaped by the
// template like any text), never code, so a name with quotes cannot break out into script.
document.addEventListener("submit", function (event) {
  const form = event.target;
  const message = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (message && !window.confirm(message)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

// The menu button shows and hides the room navigation on narrow screens.
document.addEventListener("click", function (event) {
  const button = event.target instanceof Element ? event.target.closest("[data-toggles]") : null;
  if (!button) return;
  const target = document.getElementById(button.getAttribute("data-toggles"));
  if (!target) return;
  const open = target.classList.toggle("open");
  button.setAttribute("aria-expanded", String(open));
});

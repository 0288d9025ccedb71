// Care: the inbox's keyboard, live SLA timers, presence heartbeats and the composer's undo
// countdown. Loaded with `defer` by the care templates; no inline script (CSP).
"use strict";

(function () {
  // ---- SLA timers -------------------------------------------------------------------------
  // <time class="sla" datetime="ISO due" data-warn="ISO 75% instant"> shows "12 min left" or
  // "breached 5 min ago"; its class says ok / warn / breach. The server renders the same text
  // (from its clock) so the page reads right before this runs and without JavaScript.
  function span(ms) {
    const minutes = Math.floor(Math.abs(ms) / 60000);
    if (minutes < 1) return Math.floor(Math.abs(ms) / 1000) + " s";
    if (minutes < 60) return minutes + " min";
    const hours = Math.floor(minutes / 60);
    if (hours < 24) return hours + " h " + String(minutes % 60).padStart(2, "0") + " min";
    return Math.floor(hours / 24) + " d " + (hours % 24) + " h";
  }

  // The server's "now" when it rendered the page, so a frozen or skewed client clock does
  // not make every timer lie: timers run from the server's instant plus the time elapsed here.
  const started = Date.now();
  let serverNow = null;

  function now() {
    if (serverNow === null) {
      const holder = document.querySelector("[data-server-now]");
      serverNow = holder ? Date.parse(holder.getAttribute("data-server-now")) : started;
      if (Number.isNaN(serverNow)) serverNow = started;
    }
    return serverNow + (Date.now() - started);
  }

  function tick() {
    const at = now();
    document.querySelectorAll("time.sla[datetime]").forEach(function (el) {
      const due = Date.parse(el.getAttribute("datetime"));
      if (Number.isNaN(due)) return;
      const warnAttr = el.getAttribute("data-warn");
      const warn = warnAttr ? Date.parse(warnAttr) : NaN;
      const paused = el.hasAttribute("data-paused");
      let state = "sla-ok";
      let text;
      if (paused) {
        state = "sla-paused";
        text = "paused";
      } else if (at >= due) {
        state = "sla-breach";
        text = "breached " + span(at - due) + " ago";
      } else {
        if (!Number.isNaN(warn) && at >= warn) state = "sla-warn";
        text = span(due - at) + " left";
      }
      el.classList.remove("sla-ok", "sla-warn", "sla-breach", "sla-paused");
      el.classList.add(state);
      const label = el.getAttribute("data-label") || "";
      const shown = label ? label + ": " + text : text;
      if (el.textContent !== shown) el.textContent = shown;
    });
    document.querySelectorAll("[data-undo-until]").forEach(function (el) {
      const until = Date.parse(el.getAttribute("data-undo-until"));
      const left = Math.ceil((until - at) / 1000);
      const counter = el.querySelector(".undo-seconds");
      if (left <= 0) {
        el.hidden = true;
      } else if (counter) {
        counter.textContent = String(left);
      }
    });
  }

  // ---- Inbox keyboard -----------------------------------------------------------------------
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-conversation-row]"));
  }

  function selected() {
    const row = document.querySelector("[data-conversation-row][aria-selected='true']");
    if (row) return row;
    // A row htmx just swapped in arrives unselected: the list remembers which one it was.
    const inbox = document.querySelector("[data-inbox]");
    const id = inbox ? inbox.getAttribute("data-selected-id") : null;
    return id ? document.querySelector("[data-conversation-row][data-id='" + id + "']") : null;
  }

  function select(row) {
    rows().forEach(function (r) {
      r.setAttribute("aria-selected", r === row ? "true" : "false");
      r.tabIndex = r === row ? 0 : -1;
    });
    if (row) {
      row.focus({ preventScroll: true });
      row.scrollIntoView({ block: "nearest" });
      const list = row.closest("[data-inbox]");
      if (list) list.setAttribute("data-selected-id", row.getAttribute("data-id"));
    }
  }

  function move(delta) {
    const all = rows();
    if (!all.length) return;
    const current = selected();
    let index = current ? all.indexOf(current) + delta : 0;
    index = Math.max(0, Math.min(all.length - 1, index));
    select(all[index]);
  }

  function typingIn(target) {
    return target instanceof HTMLElement &&
      (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  function toggleHelp(show) {
    const help = document.getElementById("care-keys");
    if (!help) return;
    const open = show === undefined ? help.hidden : show;
    help.hidden = !open;
    if (open) help.focus();
  }

  function press(row, key) {
    const button = row ? row.querySelector("[data-key='" + key + "']") : null;
    if (!button || button.disabled) return;
    // htmx wires swapped-in content when it settles; a fast key may come first.
    if (window.htmx) window.htmx.process(button);
    button.click();
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    const inbox = document.querySelector("[data-inbox]");
    const page = document.querySelector("[data-conversation-page]");
    if (!inbox && !page) return;
    if (event.key === "Escape") {
      toggleHelp(false);
      if (typingIn(event.target)) event.target.blur();
      return;
    }
    if (typingIn(event.target)) return;
    const key = event.key;
    if (key === "?") {
      toggleHelp();
    } else if (key === "/") {
      const search = document.getElementById("care-search");
      if (search) search.focus();
    } else if (inbox && (key === "j" || key === "ArrowDown")) {
      move(1);
    } else if (inbox && (key === "k" || key === "ArrowUp")) {
      move(-1);
    } else if (inbox && (key === "Enter" || key === "o")) {
      const row = selected();
      if (!row) return;
      window.location.assign(row.getAttribute("data-href"));
    } else if (inbox && key === "r") {
      const row = selected();
      if (!row) return;
      window.location.assign(row.getAttribute("data-href") + "#composer");
    } else if (inbox && (key === "a" || key === "e" || key === "s")) {
      press(selected(), key);
    } else if (page && key === "r") {
      const composer = document.getElementById("reply-text");
      if (composer) composer.focus();
    } else if (page && (key === "a" || key === "e" || key === "s")) {
      const button = document.querySelector("[data-page-key='" + key + "']");
      if (button) {
        if (button.tagName === "SELECT") button.focus();
        else button.click();
      }
    } else if (page && key === "u") {
      const back = document.querySelector("[data-back]");
      if (back) window.location.assign(back.getAttribute("href"));
    } else {
      return;
    }
    event.preventDefault();
  });

  // Clicking a row selects it (the link inside opens it).
  document.addEventListener("click", function (event) {
    const row = event.target instanceof Element ? event.target.closest("[data-conversation-row]") : null;
    if (row) select(row);
    const close = event.target instanceof Element ? event.target.closest("[data-close-keys]") : null;
    if (close) toggleHelp(false);
  });

  // After htmx replaces a row (assign, resolve, snooze), keep it selected.
  document.addEventListener("htmx:afterSwap", function () {
    const inbox = document.querySelector("[data-inbox]");
    if (inbox) {
      const id = inbox.getAttribute("data-selected-id");
      const row = id ? document.querySelector("[data-conversation-row][data-id='" + id + "']") : null;
      if (row) select(row);
    }
    tick();
  });

  // ---- Presence and the composer ---------------------------------------------------------------
  // The presence poll (hx-post every 2 s) says whether this person typed in the composer in
  // the last few seconds; the server turns that into "X is replying" for everyone else.
  let lastKeystroke = 0;
  document.addEventListener("input", function (event) {
    if (event.target instanceof HTMLElement && event.target.id === "reply-text") {
      const first = Date.now() - lastKeystroke > 4000;
      lastKeystroke = Date.now();
      const beat = document.getElementById("presence");
      // Say so at once on the first keystroke rather than at the next poll.
      if (first && beat && window.htmx) window.htmx.trigger(beat, "beat");
    }
  });

  document.addEventListener("htmx:configRequest", function (event) {
    const elt = event.detail.elt;
    if (elt instanceof HTMLElement && elt.id === "presence") {
      event.detail.parameters.typing = Date.now() - lastKeystroke < 5000 ? "1" : "0";
    }
  });

  // Leaving the page says so at once (a beacon carries the CSRF token as a form field).
  window.addEventListener("pagehide", function () {
    const beat = document.getElementById("presence");
    if (!beat || !navigator.sendBeacon) return;
    let token = "";
    try {
      token = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
    } catch (e) {
      return;
    }
    const form = new FormData();
    form.append("csrf_token", token);
    navigator.sendBeacon(beat.getAttribute("hx-post").replace(/\/presence$/, "/leave"), form);
  });

  // Saved replies: choosing one puts its rendered text into the composer.
  document.addEventListener("change", function (event) {
    const choice = event.target;
    if (!(choice instanceof HTMLSelectElement) || choice.id !== "saved-reply") return;
    const option = choice.selectedOptions[0];
    const composer = document.getElementById("reply-text");
    if (!option || !composer || !option.value) return;
    const body = option.getAttribute("data-body") || "";
    composer.value = composer.value ? composer.value.replace(/\s*$/, "\n\n") + body : body;
    composer.dispatchEvent(new Event("keyup", { bubbles: true }));
    composer.focus();
    choice.value = "";
  });

  function start() {
    if (document.querySelector("[data-inbox]") && !selected()) {
      const first = rows()[0];
      if (first) select(first);
    }
    if (window.location.hash === "#composer") {
      // After the browser's own scroll to the fragment, which moves focus to the body.
      window.addEventListener("load", function () {
        window.setTimeout(function () {
          const composer = document.getElementById("reply-text");
          if (composer) composer.focus();
        }, 0);
      });
    }
    tick();
    window.setInterval(tick, 1000);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

// Keyboard shortcuts for a page: every element inside `root` with a data-key is reached by that single key
// (a button or link is pressed, a field focused; data-focus names a field inside the element). Single keys
// only, and only while the cursor is not in a text field, so no shortcut takes a key the browser owns
// (its shortcuts all carry Ctrl, Cmd or Alt) or one being typed; Esc leaves a field. `?` opens the help
// overlay, a <dialog> listing every key with its control's label.
"use strict";

window.Shortcuts = (function () {
  const FIELDS = new Set(["INPUT", "TEXTAREA", "SELECT"]);

  function typing(target) {
    return target instanceof HTMLElement && (FIELDS.has(target.tagName) || target.isContentEditable);
  }

  // The control's own words, without the <kbd> that shows its key.
  function label(el) {
    if (el.getAttribute("aria-label")) return el.getAttribute("aria-label");
    if (FIELDS.has(el.tagName) && el.closest("label")) return label(el.closest("label"));
    const copy = el.cloneNode(true);
    for (const k of copy.querySelectorAll("kbd, select, input, .hint")) k.remove();
    const own = copy.textContent.replace(/\s+/g, " ").trim();
    if (own) return own;
    const field = el.closest("label");
    return field ? label(field) : el.id;
  }

  function target(el) {
    return el.dataset.focus ? el.querySelector(el.dataset.focus) : el;
  }

  // `unavailable(el)`: called for a key whose control is disabled now (the page says why).
  function bind({ root, help, helpList, unavailable }) {
    const controls = () => Array.from(root.querySelectorAll("[data-key]"));

    function fillHelp() {
      helpList.replaceChildren();
      for (const el of controls()) {
        const dt = document.createElement("dt");
        const kbd = document.createElement("kbd");
        kbd.className = "key";
        kbd.textContent = el.dataset.key;
        dt.append(kbd);
        const dd = document.createElement("dd");
        dd.textContent = label(el);
        helpList.append(dt, dd);
      }
    }

    document.addEventListener("keydown", (ev) => {
      if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.isComposing || ev.defaultPrevented) return;
      if (ev.key === "Escape") {
        if (typing(ev.target)) ev.target.blur();
        return;
      }
      if (typing(ev.target) || help.open) return;
      const key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
      const el = controls().find((c) => c.dataset.key === key);
      if (!el) return;
      ev.preventDefault();
      if (key === "?") {
        fillHelp();
        help.showModal();
        return;
      }
      const to = target(el);
      if (!to || to.hidden || el.hidden || el.closest("[hidden]")) {
        if (unavailable) unavailable(el);
      } else if (to.disabled) {
        if (unavailable) unavailable(el);
      } else if (to.tagName === "BUTTON" || to.tagName === "A") {
        to.click();
      } else {
        to.focus();
      }
    });
    return { fillHelp, label };
  }

  return { bind, label, typing };
})();

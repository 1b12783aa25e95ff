// The knowledge-base search box (views/kb_search_box.tpl) on any page: hits from /api/v1/kb/search listed
// under the box as one types; without this script the box is a plain form for /kb.
"use strict";

(function () {
  const { gettext: _ } = window.I18n;
  // A keystroke pause before asking: one request per word typed, not per letter.
  const PAUSE_MS = 250;
  const MAX_SHOWN = 8;

  function bind(form) {
    const input = form.querySelector('input[name="q"]');
    const list = form.querySelector(".kb-hits");
    let timer = null;
    let asked = 0;

    function say(text) {
      list.replaceChildren(Object.assign(document.createElement("p"), { className: "muted", textContent: text }));
      list.hidden = false;
    }

    function show(reply) {
      if (!reply.hits.length) {
        say(_("No article matches. Try fewer or other words."));
        return;
      }
      const ol = document.createElement("ol");
      ol.className = "kb-list";
      for (const hit of reply.hits.slice(0, MAX_SHOWN)) {
        const li = document.createElement("li");
        const link = Object.assign(document.createElement("a"), {
          className: "kb-title", href: `/kb/${encodeURIComponent(hit.id)}`, textContent: hit.title,
        });
        link.target = "_blank";  // the page the box is on (a ticket, a call) stays as it is
        link.rel = "noopener";
        const snippet = document.createElement("p");
        snippet.className = "kb-snippet";
        // The server escapes every character of the article in a snippet; its only markup is <mark>.
        snippet.innerHTML = hit.snippet;
        li.append(link, snippet);
        ol.append(li);
      }
      list.replaceChildren(ol);
      list.hidden = false;
    }

    async function ask() {
      const q = input.value.trim();
      const mine = ++asked;
      if (!q) {
        list.hidden = true;
        return;
      }
      try {
        const res = await fetch(`/api/v1/kb/search?${new URLSearchParams({ q })}`, {
          credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" },
        });
        const reply = await res.json();
        if (mine !== asked) return;  // a later keystroke asked again: its answer is the one to show
        if (!res.ok) {
          say(reply.error || _("The search did not answer."));
          return;
        }
        show(reply);
      } catch (err) {
        if (mine === asked) say(_("The search did not answer."));
      }
    }

    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(ask, PAUSE_MS);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") list.hidden = true;
    });
  }

  for (const form of document.querySelectorAll("form[data-kb-search]")) bind(form);
})();

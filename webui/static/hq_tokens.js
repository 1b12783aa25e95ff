// The HQ tokens page: list, create (the token shown once, with a copy button) and revoke, through
// the HQ token API (/api/v1/hq/tokens).
"use strict";

(function () {
  const root = document.getElementById("hq-tokens-page");
  if (!root) return;
  const msg = root.dataset;
  const tbody = document.querySelector("#tokens tbody");
  const pageError = document.getElementById("page-error");
  const form = document.getElementById("create-token");
  const nameInput = document.getElementById("token-name");
  const nameError = document.getElementById("name-error");
  const shown = document.getElementById("new-token");
  const value = document.getElementById("new-token-value");
  const copyResult = document.getElementById("copy-result");
  const when = (t) => (t ? new Date(t * 1000).toLocaleString() : "—");

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function showError(text) {
    pageError.textContent = text;
    pageError.hidden = !text;
  }

  const api = (method, url, body) => window.Api.call(method, url, body, msg.msgUnreachable);

  function render(tokens) {
    document.getElementById("n-tokens").textContent = tokens.length ? `(${tokens.length})` : "";
    tbody.replaceChildren();
    if (!tokens.length) {
      const tr = el("tr", "empty");
      const td = el("td", null, msg.msgNone);
      td.colSpan = 8;
      tr.append(td);
      tbody.append(tr);
      return;
    }
    for (const t of tokens) {
      const tr = el("tr", t.revoked_at ? "muted" : "");
      tr.dataset.token = t.id;
      tr.append(el("td", null, t.name), el("td", "nowrap", when(t.created_at)), el("td", null, t.created_by || "—"),
        el("td", "num", t.acked_seq ?? "—"), el("td", "nowrap", t.acked_at ? when(t.acked_at) : msg.msgNever),
        el("td", "mono", t.acked_from || "—"), el("td", "nowrap", t.revoked_at ? when(t.revoked_at) : msg.msgActive));
      const actions = el("td", "actions");
      if (!t.revoked_at) {
        const button = el("button", "btn btn-sm btn-warn", msg.msgRevoke);
        button.type = "button";
        button.addEventListener("click", () => revoke(t));
        actions.append(button);
      }
      tr.append(actions);
      tbody.append(tr);
    }
  }

  async function load() {
    const reply = await api("GET", "/api/v1/hq/tokens");
    if (reply.ok) {
      showError("");
      render(reply.data.tokens);
    } else {
      showError(reply.error);
    }
  }

  async function revoke(t) {
    if (!window.confirm(msg.msgConfirm.replace("%(name)s", t.name))) return;
    const reply = await api("POST", `/api/v1/hq/tokens/${encodeURIComponent(t.id)}/revoke`, {});
    if (!reply.ok) showError(reply.error);
    load();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    nameError.textContent = "";
    nameInput.classList.remove("invalid");
    const reply = await api("POST", "/api/v1/hq/tokens", { name: nameInput.value });
    if (!reply.ok) {
      nameError.textContent = reply.error;
      nameInput.classList.add("invalid");
      return;
    }
    form.reset();
    document.getElementById("new-token-name").textContent = reply.data.name;
    value.value = reply.data.token;
    copyResult.textContent = "";
    shown.hidden = false;
    value.focus();
    value.select();
    load();
  });

  document.getElementById("copy-token").addEventListener("click", async () => {
    // The clipboard API needs a secure context; a box on the branch LAN is often plain HTTP.
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(value.value);
      } else {
        value.select();
        if (!document.execCommand("copy")) throw new Error("copy refused");
      }
      copyResult.textContent = msg.msgCopied;
    } catch (err) {
      value.select();
      copyResult.textContent = msg.msgCopyFailed;
    }
  });

  document.getElementById("hide-token").addEventListener("click", () => {
    value.value = "";
    shown.hidden = true;
  });

  load();
})();

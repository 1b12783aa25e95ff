// Texts page: sends a test text and sends a text again through /api/v1/sms, then shows the page anew.
"use strict";

(function () {
  const root = document.getElementById("sms-page");
  if (!root) return;

  const form = document.getElementById("sms-form");
  const error = document.getElementById("sms-error");
  const notice = document.getElementById("sms-notice");

  function show(element, text) {
    element.textContent = text;
    element.hidden = !text;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    show(error, "");
    const body = { number: form.elements.number.value, text: form.elements.text.value };
    const res = await window.Api.call("POST", "/api/v1/sms/messages", body, root.dataset.msgUnreachable);
    if (!res.ok) {
      show(error, res.error);
      return;
    }
    show(notice, root.dataset.msgQueued);
    form.reset();
    window.setTimeout(() => window.location.reload(), 1500);
  });

  root.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-resend]");
    if (!button || !window.confirm(root.dataset.msgConfirmResend)) return;
    const url = `/api/v1/sms/messages/${encodeURIComponent(button.dataset.resend)}/resend`;
    const res = await window.Api.call("POST", url, undefined, root.dataset.msgUnreachable);
    if (!res.ok) {
      show(error, res.error);
      return;
    }
    window.location.reload();
  });
})();

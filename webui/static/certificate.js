// The HTTPS certificate page (drawn with the certificate in use): an upload, from files or pasted PEM,
// through /api/v1/tls/certificate, which checks it before the box serves it; the page then shows it.
"use strict";

(function () {
  const root = document.getElementById("certificate-page");
  if (!root) return;
  const msg = root.dataset;
  const pageError = document.getElementById("page-error");
  const form = document.getElementById("upload-certificate");
  const result = document.getElementById("upload-result");
  const certText = document.getElementById("certificate-text");
  const keyText = document.getElementById("key-text");
  const when = (t) => new Date(t * 1000).toLocaleString();
  const api = (method, url, body) => window.Api.call(method, url, body, msg.msgUnreachable);

  function showError(text) {
    pageError.textContent = text;
    pageError.hidden = !text;
  }

  function show(info) {
    const set = (id, text) => { document.getElementById(id).textContent = text; };
    set("cert-subject", info.subject);
    set("cert-issuer", info.self_signed ? msg.msgSelfSigned : msg.msgSignedBy.replace("%(issuer)s", info.issuer));
    set("cert-from", when(info.not_before));
    set("cert-until", when(info.not_after));
    set("cert-fingerprint", info.fingerprint_sha256);
    document.getElementById("current").hidden = false;
    const none = document.getElementById("no-certificate");
    if (none) none.hidden = true;
  }

  // A chosen file fills its text box, so what is sent can be read before it is.
  for (const [fileId, text] of [["certificate-file", certText], ["key-file", keyText]]) {
    document.getElementById(fileId).addEventListener("change", async (event) => {
      const file = event.target.files[0];
      if (!file) return;
      try {
        text.value = await file.text();
      } catch (err) {
        showError(msg.msgReadFailed);
      }
    });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    result.hidden = true;
    const reply = await api("PUT", "/api/v1/tls/certificate", { certificate: certText.value, key: keyText.value });
    if (!reply.ok) {
      showError(reply.error);
      return;
    }
    showError("");
    keyText.value = "";
    show(reply.data);
    result.textContent = msg.msgSaved;
    result.hidden = false;
  });
})();

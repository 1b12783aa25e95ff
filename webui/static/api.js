// Shared by the page scripts that call the JSON API: one request with the page's CSRF token, its
// answer as { ok, data } or { ok: false, error }, and a signed-out user sent to sign in again.
"use strict";

window.Api = (function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  // `unreachable`: the page's own words for a box that does not answer at all.
  async function call(method, url, body, unreachable) {
    const init = { method, credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } };
    if (method !== "GET") {
      init.headers["X-CSRF-Token"] = csrf;
      if (body !== undefined) {
        init.headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
    }
    let res;
    try {
      res = await fetch(url, init);
    } catch (err) {
      return { ok: false, error: unreachable };
    }
    if (res.status === 401) {
      window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
      return { ok: false, error: "" };
    }
    const data = await res.json().catch(() => ({}));
    return res.ok ? { ok: true, data } : { ok: false, error: data.error || String(res.status) };
  }

  return { call };
})();

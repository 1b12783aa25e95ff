// Translations and locale formats for the page scripts. The catalogue comes from /i18n/<lang>.js
// (webui/i18n.py, made from webui/locale/<lang>/LC_MESSAGES/branchline.po), loaded before this file;
// messages keep Python's %(name)s placeholders so that one catalogue check covers Python, templates
// and scripts.
"use strict";

window.I18n = (function () {
  const catalogue = window.BranchlineCatalogue || { lang: "en", plurals: 2, messages: {} };
  const lang = document.documentElement.lang || catalogue.lang;

  // "%(n)s lines" with {n: 3}: each %(name)s (or %(name)d) by its value; %% is a percent sign.
  function format(message, values) {
    return message.replace(/%(?:\((\w+)\)[sd]|%)/g, (whole, name) => {
      if (!name) return "%";
      return Object.prototype.hasOwnProperty.call(values || {}, name) ? String(values[name]) : whole;
    });
  }

  function gettext(message, values) {
    const found = catalogue.messages[message];
    return format(typeof found === "string" && found ? found : message, values);
  }

  // The plural form of the catalogue's language: one form (Chinese) or English's two (1, other).
  // A language with other rules needs its CLDR rule here.
  function ngettext(singular, plural, n, values) {
    const forms = catalogue.messages[singular];
    const index = catalogue.plurals === 1 ? 0 : n === 1 ? 0 : 1;
    const chosen = Array.isArray(forms) && forms[index] ? forms[index] : n === 1 ? singular : plural;
    return format(chosen, Object.assign({ n: number(n) }, values));
  }

  const numberFormat = new Intl.NumberFormat(lang);
  // A count or measure with the locale's grouping and decimal sign; `digits` fixes the decimals.
  function number(value, digits) {
    if (value === null || value === undefined) return "—";
    if (digits === undefined) return numberFormat.format(value);
    return new Intl.NumberFormat(lang, { minimumFractionDigits: digits, maximumFractionDigits: digits })
      .format(value);
  }

  // Times on the 24-hour clock the box's pages use, in the locale's way of writing them.
  const timeFormat = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", second: "2-digit",
    hourCycle: "h23" });
  const dateTimeFormat = new Intl.DateTimeFormat(lang, { year: "numeric", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  const timeOfDay = (date) => timeFormat.format(date);
  const dateTime = (date) => dateTimeFormat.format(date);

  // m:ss, or h:mm:ss from an hour up, as webui/fmt.py duration() writes it on the server.
  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    const s = Math.max(0, Math.round(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    const pad = (n) => String(n).padStart(2, "0");
    return h ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
  }

  return { lang, gettext, ngettext, format, number, duration, timeOfDay, dateTime };
})();

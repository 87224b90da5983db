// The pages' languages: messages from the catalogue the server embeds in the page
// (<script type="application/json" id="catalogues">, from service/locales/), the language
// chosen by the switch (kept in localStorage) or else the browser's, and dates, numbers and
// "n minutes ago" through Intl. Loaded first, before every other script of the page.
//
//   i18n.t("queue.empty")                      the message, in the page's language
//   i18n.t("queue.count", { count: 3 })        {name} placeholders; a message may be an object
//                                              of plural forms ({"one": ..., "other": ...}),
//                                              picked by Intl.PluralRules on `count`
//   i18n.apply(root)                           (run once on the document at load) fills every [data-i18n] element's text and every
//                                              [data-i18n-<attribute>] attribute below root
//   i18n.date(iso, options) / i18n.number(n) / i18n.ago(iso)
//   i18n.locale, i18n.locales, i18n.setLocale(code)   (setLocale stores the choice and reloads)
//   i18n.bindSwitch(select)                    fills a <select> with each language, named in
//                                              itself (its catalogue's `locale.name`), and
//                                              switches to the one picked
//   i18n.names                                 { code: that language's name, in itself }
//
// A key missing from the chosen language falls back to English, then to the key itself, so a
// missing message is visible rather than blank.
"use strict";

(() => {
  const STORAGE_KEY = "moderation.locale";
  const FALLBACK = "en";
  const element = document.getElementById("catalogues");
  const catalogues = element ? JSON.parse(element.textContent || "{}") : {};
  const locales = Object.keys(catalogues).length ? Object.keys(catalogues) : [FALLBACK];

  function supported(tag) {
    if (!tag) return null;
    const primary = String(tag).toLowerCase().split("-")[0];
    return locales.includes(primary) ? primary : null;
  }

  function chosen() {
    let stored = null;
    try {
      stored = localStorage.getItem(STORAGE_KEY);
    } catch {
      stored = null;
    }
    if (supported(stored)) return supported(stored);
    for (const tag of navigator.languages || [navigator.language]) {
      if (supported(tag)) return supported(tag);
    }
    return FALLBACK;
  }

  const locale = chosen();
  // Each language named in itself (its catalogue's locale.name), for the language switch.
  const names = Object.fromEntries(
    locales.map((code) => [code, (catalogues[code] || {})["locale.name"] || code]),
  );
  const plurals = new Intl.PluralRules(locale);
  const numbers = new Intl.NumberFormat(locale);
  const relative = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });

  function lookup(key) {
    const own = catalogues[locale] || {};
    if (Object.prototype.hasOwnProperty.call(own, key)) return own[key];
    const fallback = catalogues[FALLBACK] || {};
    if (Object.prototype.hasOwnProperty.call(fallback, key)) return fallback[key];
    return key;
  }

  function t(key, params = {}) {
    let message = lookup(key);
    if (message && typeof message === "object") {
      const count = Number(params.count);
      message = message[plurals.select(count)] ?? message.other ?? key;
    }
    return String(message).replace(/\{(\w+)\}/g, (whole, name) => {
      if (!Object.prototype.hasOwnProperty.call(params, name)) return whole;
      const value = params[name];
      return typeof value === "number" ? numbers.format(value) : String(value);
    });
  }

  function has(key) {
    return lookup(key) !== key;
  }

  function apply(root = document) {
    for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const node of root.querySelectorAll("*")) {
      for (const name of Object.keys(node.dataset)) {
        if (!name.startsWith("i18n") || name === "i18n") continue;
        // data-i18n-aria-label="key" sets aria-label; data-i18n-title sets title.
        const attribute = name
          .slice(4)
          .replace(/^[A-Z]/, (c) => c.toLowerCase())
          .replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
        node.setAttribute(attribute, t(node.dataset[name]));
      }
    }
  }

  function date(iso, options = { dateStyle: "medium", timeStyle: "short" }) {
    const moment = iso instanceof Date ? iso : new Date(iso);
    return Number.isNaN(moment.getTime()) ? "" : new Intl.DateTimeFormat(locale, options).format(moment);
  }

  function number(value, options) {
    return options ? new Intl.NumberFormat(locale, options).format(value) : numbers.format(value);
  }

  // "3 minutes ago", "yesterday", "in 2 hours": the largest unit that fits.
  const UNITS = [
    ["year", 365 * 24 * 3600],
    ["month", 30 * 24 * 3600],
    ["week", 7 * 24 * 3600],
    ["day", 24 * 3600],
    ["hour", 3600],
    ["minute", 60],
    ["second", 1],
  ];

  function ago(iso, now = Date.now()) {
    const moment = iso instanceof Date ? iso : new Date(iso);
    if (Number.isNaN(moment.getTime())) return "";
    const seconds = Math.round((moment.getTime() - now) / 1000);
    for (const [unit, size] of UNITS) {
      if (Math.abs(seconds) >= size || unit === "second") {
        return relative.format(Math.round(seconds / size), unit);
      }
    }
    return "";
  }

  function setLocale(code) {
    if (!supported(code)) return;
    try {
      localStorage.setItem(STORAGE_KEY, supported(code));
    } catch {
      // Storage refused (a private window's quota): the choice lasts for this page only.
    }
    window.location.reload();
  }

  function bindSwitch(select) {
    if (!select) return;
    select.replaceChildren(
      ...locales.map((code) => {
        const option = document.createElement("option");
        option.value = code;
        option.lang = code;
        option.textContent = names[code];
        return option;
      }),
    );
    select.value = locale;
    select.addEventListener("change", () => setLocale(select.value));
  }

  document.documentElement.lang = locale;
  // Scripts are deferred, so the document is parsed: its own text is translated at once.
  apply(document);
  window.i18n = {
    locale, locales, names, t, has, apply, date, number, ago, setLocale, bindSwitch, STORAGE_KEY,
  };
})();

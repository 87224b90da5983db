// The moderators' page, first of its scripts: the page's elements, the state every part of it
// shares, and the small helpers and names they all use. Each script is one function run at
// load that publishes what the others need on `window.moderation`; a script takes from it what
// the scripts before it published, and calls what a later one publishes through it, when needed.
//
// Rules these scripts keep: comment text only ever reaches the page through textContent and
// createElement (never innerHTML), and the token lives in sessionStorage and travels only
// in an Authorization header (never in a URL).
"use strict";

(() => {
  const moderation = (window.moderation = window.moderation || {});

  // The coded reasons in the order the digit keys pick them: 1 … 9, then 0, as the server
  // writes them into the page (service/reports/reasons.py REASON_CODES).
  const REASON_CODES = (document.body.dataset.reasonCodes || "").split(" ").filter(Boolean);
  const ILLEGAL = "illegal";
  const { t } = window.i18n;
  // A code, status or kind the catalogue has no name for is shown as it came.
  const named = (prefix, value) =>
    window.i18n.has(`${prefix}.${value}`) ? t(`${prefix}.${value}`) : String(value);
  const REASON_NAMES = Object.fromEntries(
    ["offensive", "abusive", "harassment", "hate_speech", "spam", "personal_info", "off_topic",
      "illegal", "other", "misinformation"].map((code) => [code, t(`code.${code}`)]),
  );

  const $ = (id) => document.getElementById(id);
  const ui = {
    signin: $("signin"),
    signinForm: $("signin-form"),
    token: $("token"),
    signinError: $("signin-error"),
    workspace: $("workspace"),
    session: $("session"),
    whoami: $("whoami"),
    signOut: $("sign-out"),
    helpButton: $("help-button"),
    help: $("help"),
    counter: $("counter"),
    queue: $("queue"),
    empty: $("empty"),
    sort: $("sort"),
    sortBox: $("sort-box"),
    queueTitle: $("queue-title"),
    heading: $("heading"),
    tabs: [$("view-held"), $("view-reported")],
    detailBody: $("detail-body"),
    actions: $("actions"),
    codes: $("codes"),
    legal: $("legal"),
    legalGround: $("legal-ground"),
    explanation: $("decision-explanation"),
    reason: $("decision-reason"),
    approve: $("approve"),
    approveLabel: $("approve-label"),
    reject: $("reject"),
    openThread: $("open-thread"),
    notice: $("notice"),
    thread: $("thread"),
    threadCode: $("thread-code"),
    threadStatus: $("thread-status"),
    threadList: $("thread-list"),
    threadMore: $("thread-more"),
  };

  // `gone`: ids decided here, kept out of a poll answer that was already on its way.
  // `code`: the reason code picked for the next rejection. `thread`: the thread on show.
  // `revisions`: edited comments' revisions by "id@revision", as promises of their list.
  const state = {
    view: "held",
    items: [],
    selectedId: null,
    count: null,
    code: null,
    thread: null,
    busy: false,
    timer: null,
    generation: 0,
    gone: new Set(),
    revisions: new Map(),
    renderedQueue: null,
    renderedDetail: null,
  };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // A time in the past, never "in 2 seconds" when the server's clock runs a little ahead.
  function ago(iso) {
    const moment = Date.parse(iso);
    return window.i18n.ago(Number.isNaN(moment) ? iso : new Date(Math.min(moment, Date.now())));
  }

  function repliesText(count) {
    return t("replies.count", { count });
  }

  function say(message) {
    // Behind an open modal dialog the page is inert, so the thread has a status line of its own.
    const target = ui.thread.open ? ui.threadStatus : ui.notice;
    target.textContent = "";
    // A fresh text node makes screen readers announce the same message twice in a row.
    window.setTimeout(() => {
      target.textContent = message;
    }, 50);
  }

  function statusBadge(status) {
    const known = window.i18n.has(`status.${status}`);
    return el("span", `badge status status-${known ? status : "other"}`, named("status", status));
  }

  function current() {
    return state.items.find((item) => item.id === state.selectedId) || null;
  }

  Object.assign(moderation, {
    REASON_CODES, ILLEGAL, REASON_NAMES, ui, state, t, named, el, ago, repliesText, say,
    statusBadge, current,
  });
})();

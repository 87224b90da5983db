// The moderators' page: sign in with a token, then work through the hold queue and the
// queue of comments readers reported, with each comment's thread at hand.
//
// Rules this file keeps: comment text only ever reaches the page through textContent and
// createElement (never innerHTML), and the token lives in sessionStorage and travels only
// in an Authorization header (never in a URL).
"use strict";

(() => {
  const TOKEN_KEY = "moderation.token";
  const SORT_KEY = "moderation.sort";
  const VIEW_KEY = "moderation.view";
  const BATCH = 25;
  const POLL_MS = 10000;
  const THREAD_PAGE = 20;
  const THREAD_MAX_PAGE = 100;

  const KIND_NAMES = {
    toxicity: "Toxic language",
    terms: "Listed word",
    links: "Link",
    personal_info: "Personal details",
    language: "Language",
    flood: "Posting flood",
    repeat: "Repeated text",
    author: "Author on watch",
    article: "Pre-moderated article",
  };
  // The coded reasons in the order the digit keys pick them: 1 … 9, then 0
  // (service/reports/reasons.py REASON_CODES).
  const REASON_CODES = [
    "offensive",
    "abusive",
    "harassment",
    "hate_speech",
    "spam",
    "personal_info",
    "off_topic",
    "illegal",
    "other",
    "misinformation",
  ];
  const ILLEGAL = "illegal";
  const REASON_NAMES = {
    offensive: "Offensive",
    abusive: "Abusive",
    harassment: "Harassment",
    hate_speech: "Hate speech",
    spam: "Spam",
    personal_info: "Personal info",
    off_topic: "Off topic",
    illegal: "Illegal",
    other: "Other",
    misinformation: "Misinformation",
  };
  const STATUS_NAMES = {
    pending: "Pending",
    approved: "Published",
    held: "Held",
    rejected: "Rejected",
    hidden: "Hidden by reports",
  };
  const VIEWS = {
    held: {
      title: "Waiting for review",
      empty: "Nothing is waiting for review. New holds appear here by themselves.",
      query: () => `queue=held&claim=${BATCH}&sort=${encodeURIComponent(ui.sort.value)}`,
      approve: "Approve",
      heading: "Hold queue",
    },
    reported: {
      title: "Reported by readers",
      empty: "No reported comments are waiting. New reports appear here by themselves.",
      query: () => `queue=reported&claim=${BATCH}`,
      approve: "Keep",
      heading: "Reported comments",
    },
  };
  const LABEL_NAMES = {
    severe_toxicity: "Severe toxicity",
    threat: "Threat",
    identity_attack: "Identity attack",
    sexual_explicit: "Sexually explicit",
    insult: "Insult",
    obscene: "Obscene",
    toxicity: "Toxicity",
  };

  const apiBase = document.body.dataset.apiBase || "";
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
    renderedQueue: null,
    renderedDetail: null,
  };

  // ---- helpers -------------------------------------------------------------------------

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && problem.detail) || `HTTP ${status}`);
      this.status = status;
      this.code = problem && problem.code;
    }
  }

  async function api(path, options = {}) {
    const headers = { Accept: "application/json", Authorization: `Bearer ${token()}` };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(apiBase + path, {
      method: options.method || "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
    const type = response.headers.get("content-type") || "";
    const body = type.includes("json") ? await response.json() : null;
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }

  function whoFromToken(raw) {
    try {
      const part = raw.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const claims = JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
      return typeof claims.name === "string" && claims.name ? claims.name : String(claims.sub);
    } catch {
      return "moderator";
    }
  }

  function ago(iso) {
    const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (seconds < 60) return "just now";
    const minutes = Math.round(seconds / 60);
    if (minutes < 60) return `${minutes} min ago`;
    const hours = Math.round(minutes / 60);
    if (hours < 48) return `${hours} h ago`;
    return `${Math.round(hours / 24)} days ago`;
  }

  function plural(count, word) {
    return `${count} ${word}${count === 1 ? "" : "s"}`;
  }

  function repliesText(count) {
    return count === 1 ? "1 reply" : `${count} replies`;
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

  function reasonName(reason) {
    return Object.hasOwn(REASON_NAMES, reason) ? REASON_NAMES[reason] : String(reason);
  }

  function statusBadge(status) {
    const known = Object.hasOwn(STATUS_NAMES, status);
    const name = known ? STATUS_NAMES[status] : status;
    return el("span", `badge status status-${known ? status : "other"}`, name);
  }

  // ---- rendering -----------------------------------------------------------------------

  function reasonsOf(item) {
    return (item.decision && Array.isArray(item.decision.reasons) && item.decision.reasons) || [];
  }

  // The policy's spans are code-point offsets; JavaScript strings count UTF-16 units, so
  // the text is split into code points first.
  function highlightedText(text, reasons, className) {
    const container = el("p", className);
    const points = Array.from(text || "");
    const spans = [];
    for (const reason of reasons) {
      for (const span of Array.isArray(reason.spans) ? reason.spans : []) {
        const start = Number(span.start);
        const end = Number(span.end);
        if (Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end > start) {
          spans.push([start, Math.min(end, points.length), reason.kind]);
        }
      }
    }
    spans.sort((a, b) => a[0] - b[0]);
    const merged = [];
    for (const span of spans) {
      const last = merged[merged.length - 1];
      if (last && span[0] <= last[1]) last[1] = Math.max(last[1], span[1]);
      else merged.push(span.slice());
    }
    let at = 0;
    for (const [start, end, kind] of merged) {
      if (start >= points.length) break;
      if (start > at) container.append(document.createTextNode(points.slice(at, start).join("")));
      const mark = el("mark", null, points.slice(start, end).join(""));
      mark.title = KIND_NAMES[kind] || String(kind);
      container.append(mark);
      at = end;
    }
    if (at < points.length) container.append(document.createTextNode(points.slice(at).join("")));
    return container;
  }

  function kindBadge(kind) {
    const known = Object.hasOwn(KIND_NAMES, kind);
    return el("span", `badge kind-${known ? kind : "other"}`, known ? KIND_NAMES[kind] : kind);
  }

  function scoreText(score) {
    return typeof score === "number" ? score.toFixed(2) : "–";
  }

  function queueEntry(item) {
    const li = el("li", "entry");
    li.id = `entry-${item.id}`;
    li.setAttribute("role", "option");
    li.dataset.id = item.id;

    const top = el("div", "entry-top");
    const kinds = el("span", "badges");
    const reports = item.reports;
    if (reports) {
      kinds.append(...reportBadges(reports));
      const total = el("span", "score-pill report-pill", plural(reports.total ?? 0, "report"));
      top.append(kinds, total);
    } else {
      for (const kind of new Set(reasonsOf(item).map((reason) => reason.kind))) {
        kinds.append(kindBadge(kind));
      }
      const level = item.max_score >= 0.8 ? "high" : item.max_score >= 0.5 ? "medium" : "low";
      const score = el("span", `score-pill score-${level}`, scoreText(item.max_score));
      score.title = "Highest model score";
      top.append(kinds, score);
    }

    const meta = el("div", "entry-meta");
    meta.append(
      el("span", null, item.article_id),
      el("span", null, `by ${item.author_id}`),
      el("span", null, ago(item.created_at)),
    );
    if (item.parent) meta.append(el("span", null, "a reply"));
    li.append(top, highlightedText(item.text, reasonsOf(item), "entry-text"), meta);
    li.addEventListener("click", () => select(item.id, { focus: true }));
    return li;
  }

  function byReason(reports) {
    return Object.entries(reports.by_reason || {}).sort((a, b) => b[1] - a[1]);
  }

  // Whether readers' reports took it down, whether one of them is a notice of illegal content,
  // then the counts by reason, most reported first.
  function reportBadges(reports) {
    const badges = [];
    if (reports.hidden) badges.push(el("span", "badge report-hidden", "Hidden"));
    if (Array.isArray(reports.legal_notices) && reports.legal_notices.length) {
      badges.push(el("span", "badge report-legal", "Legal notice"));
    }
    for (const [reason, count] of byReason(reports)) {
      const badge = el("span", `badge report-reason reason-${reason}`);
      badge.append(document.createTextNode(`${reasonName(reason)} `), el("strong", null, count));
      badges.push(badge);
    }
    return badges;
  }

  function section(title, ...children) {
    const wrapper = el("section", "facet");
    wrapper.append(el("h3", null, title), ...children);
    return wrapper;
  }

  function renderDetail() {
    const item = current();
    const key = item ? `${item.id}:${item.version}` : "";
    if (key && key === state.renderedDetail) return;
    state.renderedDetail = key;
    ui.detailBody.replaceChildren();
    ui.actions.hidden = !item;
    if (!item) {
      ui.detailBody.append(el("p", "placeholder", state.items.length ? "Select a comment." : ""));
      return;
    }
    ui.detailBody.append(facts(item));
    if (item.parent) ui.detailBody.append(parentBlock(item.parent));
    ui.detailBody.append(highlightedText(item.text, reasonsOf(item), "comment-text"));
    if (item.reports) {
      ui.detailBody.append(section("Readers’ reports", reportFacet(item.reports)));
      const scores = scoreList(item);
      if (!scores.querySelector(".muted")) ui.detailBody.append(section("Model scores", scores));
    } else {
      ui.detailBody.append(
        section("Why it was held", reasonList(item)),
        section("Model scores", scoreList(item)),
      );
    }
  }

  // The comment it answers, above it: "so are you" means nothing without it.
  function parentBlock(parent) {
    const block = el("section", "parent");
    block.setAttribute("aria-label", "In reply to");
    const head = el("p", "parent-head");
    head.append(
      el("span", "parent-label", "In reply to"),
      el("span", "mono", parent.author_id),
    );
    if (parent.status && parent.status !== "approved") head.append(statusBadge(parent.status));
    block.append(head, el("p", "parent-text", parent.text));
    return block;
  }

  function reportFacet(reports) {
    const wrapper = el("div", "reports");
    const summary = el("p", "report-summary");
    summary.append(el("strong", null, plural(reports.total ?? 0, "report")));
    const reporters = Array.isArray(reports.reporters) ? reports.reporters : [];
    if (reporters.length) {
      summary.append(document.createTextNode(" from "), el("span", "mono", reporters.join(", ")));
    }
    if (reports.hidden) {
      summary.append(el("span", "badge report-hidden", "Hidden from readers until you decide"));
    }
    const counts = el("ul", "report-counts");
    for (const [reason, count] of byReason(reports)) {
      const li = el("li", "report-count");
      li.append(el("strong", null, count), document.createTextNode(` ${reasonName(reason)}`));
      counts.append(li);
    }
    wrapper.append(summary, counts);

    const notices = Array.isArray(reports.legal_notices) ? reports.legal_notices : [];
    for (const notice of notices) {
      const box = el("dl", "legal-notice");
      const row = (term, value) => {
        const wrap = el("div", "fact");
        wrap.append(el("dt", null, term), el("dd", null, value));
        box.append(wrap);
      };
      row("Legal notice", notice.at ? ago(notice.at) : "");
      row("Legal ground", notice.legal_ground);
      row("Explanation", notice.explanation);
      row("Good faith", notice.good_faith ? "Declared by the reporter" : "Not declared");
      wrapper.append(box);
    }

    const details = (Array.isArray(reports.details) ? reports.details : []).filter((d) => d.detail);
    if (details.length) {
      const list = el("ul", "report-details");
      for (const detail of details) {
        const li = el("li");
        li.append(
          el("span", `badge report-reason reason-${detail.reason}`, reasonName(detail.reason)),
          el("span", "report-detail", detail.detail),
          el("span", "muted", detail.at ? ago(detail.at) : ""),
        );
        list.append(li);
      }
      wrapper.append(el("h4", "report-details-title", "Latest details"), list);
    }
    return wrapper;
  }

  function facts(item) {
    const record = item.author_record || {};
    const list = el("dl", "facts");
    const fact = (term, value) => {
      const wrapper = el("div", "fact");
      const definition = el("dd");
      definition.append(value);
      wrapper.append(el("dt", null, term), definition);
      list.append(wrapper);
    };
    fact("Article", el("span", "mono", item.article_id));
    const posted = ago(item.created_at);
    fact("Posted", el("span", null, item.parent_id ? `${posted}, as a reply` : posted));
    const author = el("span", "author");
    author.append(el("span", "mono", item.author_id));
    if (record.banned) author.append(el("span", "badge banned", "Banned"));
    fact("Author", author);
    if (item.author_record) {
      const counts = el("span", "counts");
      for (const key of ["approved", "rejected", "held"]) {
        const count = el("span", `count count-${key}`);
        count.append(el("strong", null, record[key] ?? 0), document.createTextNode(` ${key}`));
        counts.append(count);
      }
      fact("Author’s record", counts);
    }
    if (item.status && item.status !== "held") fact("Status", statusBadge(item.status));
    if (typeof item.replies_count === "number") {
      fact("Replies", el("span", null, repliesText(item.replies_count)));
    }
    return list;
  }

  function reasonList(item) {
    const list = el("ul", "reasons");
    for (const reason of reasonsOf(item)) {
      const li = el("li");
      li.append(kindBadge(reason.kind), el("span", "reason-text", reason.message || reason.rule));
      list.append(li);
    }
    if (!list.children.length) list.append(el("li", "muted", "No reason recorded."));
    return list;
  }

  function scoreList(item) {
    const list = el("ul", "scores");
    const values = (item.decision && item.decision.scores) || {};
    const labels = Object.keys(LABEL_NAMES)
      .filter((label) => typeof values[label] === "number")
      .sort((a, b) => values[b] - values[a]);
    for (const label of labels) {
      const row = el("li", "score-row");
      const meter = el("meter");
      meter.min = 0;
      meter.max = 1;
      meter.low = 0.5;
      meter.high = 0.8;
      meter.optimum = 0;
      meter.value = values[label];
      meter.setAttribute("aria-label", `${LABEL_NAMES[label]} score`);
      row.append(
        el("span", "score-name", LABEL_NAMES[label]),
        meter,
        el("span", "score-value", scoreText(values[label])),
      );
      list.append(row);
    }
    if (!list.children.length) list.append(el("li", "muted", "No model scores."));
    return list;
  }

  // A poll that brings nothing new leaves the list alone, so a moderator's scroll position
  // and focus survive it.
  function renderQueue() {
    const key = state.items.map((item) => `${item.id}:${item.version}`).join(",");
    if (key !== state.renderedQueue) {
      state.renderedQueue = key;
      const focusedId = document.activeElement && document.activeElement.dataset
        ? document.activeElement.dataset.id
        : undefined;
      const scrolled = ui.queue.scrollTop;
      ui.queue.replaceChildren(...state.items.map(queueEntry));
      ui.queue.scrollTop = scrolled;
      ui.empty.hidden = state.items.length > 0;
      ui.queue.hidden = state.items.length === 0;
      markSelection();
      if (focusedId && focusedId === state.selectedId) focusSelected();
      return;
    }
    markSelection();
  }

  function markSelection() {
    for (const li of ui.queue.children) {
      const selected = li.dataset.id === state.selectedId;
      li.setAttribute("aria-selected", String(selected));
      li.tabIndex = selected ? 0 : -1;
    }
  }

  function renderCounter() {
    // Rewritten only when the number changes: the counter is a live region, and a screen
    // reader would otherwise read it out on every poll.
    const key = `${state.view}:${state.count}`;
    if (state.count === null || ui.counter.dataset.held === key) return;
    ui.counter.dataset.held = key;
    ui.counter.hidden = false;
    ui.counter.replaceChildren(
      el("strong", null, state.count),
      el("span", null, state.count === 1 ? " comment left" : " comments left"),
    );
  }

  function renderView() {
    const view = VIEWS[state.view];
    for (const tab of ui.tabs) {
      const selected = tab.dataset.view === state.view;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
    }
    ui.queueTitle.textContent = view.title;
    ui.heading.textContent = view.heading;
    ui.empty.textContent = view.empty;
    ui.sortBox.hidden = state.view !== "held";
    ui.approveLabel.textContent = view.approve;
    ui.approve.classList.toggle("keep", state.view === "reported");
    document.title = `${view.heading} · Comment moderation`;
  }

  // ---- reason codes --------------------------------------------------------------------

  function digitOf(code) {
    return String((REASON_CODES.indexOf(code) + 1) % 10);
  }

  function renderCodes() {
    if (!ui.codes.children.length) {
      for (const code of REASON_CODES) {
        const chip = el("button", "chip");
        chip.type = "button";
        chip.dataset.code = code;
        chip.setAttribute("aria-keyshortcuts", digitOf(code));
        const key = el("kbd", null, digitOf(code));
        key.setAttribute("aria-hidden", "true");
        chip.append(key, document.createTextNode(` ${REASON_NAMES[code]}`));
        chip.addEventListener("click", () => pickCode(code));
        ui.codes.append(chip);
      }
    }
    for (const chip of ui.codes.children) {
      chip.setAttribute("aria-pressed", String(chip.dataset.code === state.code));
    }
    ui.legal.hidden = state.code !== ILLEGAL;
    ui.threadCode.textContent = state.code
      ? `A rejection here is sent with the code “${REASON_NAMES[state.code]}” ` +
        "(a digit key changes it)."
      : "Digit keys pick a code for a rejection.";
  }

  function pickCode(code) {
    state.code = state.code === code ? null : code;
    renderCodes();
    say(state.code ? `Code: ${REASON_NAMES[state.code]}.` : "No code.");
  }

  function clearDecisionFields() {
    ui.reason.value = "";
    ui.explanation.value = "";
    ui.legalGround.value = "";
    state.code = null;
    renderCodes();
  }

  // ---- selection -----------------------------------------------------------------------

  function current() {
    return state.items.find((item) => item.id === state.selectedId) || null;
  }

  function focusSelected() {
    const li = state.selectedId && document.getElementById(`entry-${state.selectedId}`);
    if (li) {
      li.focus({ preventScroll: true });
      li.scrollIntoView({ block: "nearest" });
    }
  }

  function select(id, { focus = false } = {}) {
    const changed = id !== state.selectedId;
    state.selectedId = id;
    markSelection();
    if (changed) {
      clearDecisionFields();
      renderDetail();
    }
    if (focus) focusSelected();
  }

  function move(step) {
    if (!state.items.length) return;
    const index = state.items.findIndex((item) => item.id === state.selectedId);
    const next = Math.min(state.items.length - 1, Math.max(0, index + step));
    select(state.items[index < 0 ? 0 : next].id, { focus: true });
  }

  // ---- data ----------------------------------------------------------------------------

  async function refresh() {
    if (!token()) return;
    const generation = ++state.generation;
    try {
      const view = state.view;
      const [page, stats] = await Promise.all([
        api(`/v1/moderation/queue?${VIEWS[view].query()}`),
        api("/v1/moderation/stats"),
      ]);
      if (generation !== state.generation) return; // a newer refresh has started
      state.items = page.items.filter((item) => !state.gone.has(item.id));
      state.count = countOf(view, stats, state.items);
      if (!current()) state.selectedId = state.items.length ? state.items[0].id : null;
      renderQueue();
      renderDetail();
      renderCounter();
    } catch (error) {
      handleFailure(error);
    }
  }

  // The stats count held comments; for the reported queue they may not say, and then the
  // page counts what it was given.
  function countOf(view, stats, items) {
    if (view === "held") return stats.held;
    return typeof stats.reported === "number" ? stats.reported : items.length;
  }

  function switchView(view) {
    if (view === state.view || !Object.hasOwn(VIEWS, view)) return;
    state.view = view;
    sessionStorage.setItem(VIEW_KEY, view);
    state.generation += 1;
    Object.assign(state, { items: [], selectedId: null, count: null });
    state.renderedQueue = state.renderedDetail = null;
    delete ui.counter.dataset.held;
    ui.counter.hidden = true;
    clearDecisionFields();
    renderView();
    renderQueue();
    renderDetail();
    refresh().then(() => focusSelected());
  }

  function schedule() {
    window.clearTimeout(state.timer);
    state.timer = window.setTimeout(async () => {
      if (!document.hidden) await refresh();
      if (token()) schedule();
    }, POLL_MS);
  }

  function handleFailure(error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      signOut(
        error.status === 401
          ? "Your session has ended. Sign in again to carry on."
          : "This token does not have the moderator role.",
      );
      return;
    }
    say(error instanceof ApiError ? error.message : "The server is not answering; retrying.");
  }

  // `a` approves a held comment and keeps a reported one; `r` rejects either.
  async function decide(key) {
    const item = current();
    if (!item || state.busy) return;
    const action = key === "reject" ? "reject" : state.view === "reported" ? "keep" : "approve";
    const body = { action, version: item.version };
    const reason = ui.reason.value.trim();
    if (reason) body.reason = reason;
    if (action === "reject" && !addCode(body, { explain: true })) return;
    state.busy = true;
    ui.approve.disabled = ui.reject.disabled = true;
    try {
      await postDecision(item.id, body);
      say(decidedMessage(action, item, body.reason_code));
      removeItem(item.id);
      if (state.count !== null) state.count = Math.max(0, state.count - 1);
      renderCounter();
    } catch (error) {
      if (!refused(error, item.id)) handleFailure(error);
    } finally {
      state.busy = false;
      ui.approve.disabled = ui.reject.disabled = false;
    }
    if (!state.items.length) refresh();
  }

  // The picked code, (for illegal content) the legal ground and, when the decision is on the
  // selected comment, the explanation for its author; false, with the legal-ground field
  // focused, when that ground is still to be typed.
  function addCode(body, { explain }) {
    const explanation = ui.explanation.value.trim();
    if (explain && explanation) body.explanation = explanation;
    if (!state.code) return true;
    body.reason_code = state.code;
    if (state.code !== ILLEGAL) return true;
    const ground = ui.legalGround.value.trim();
    if (!ground) {
      askLegalGround();
      return false;
    }
    body.legal_ground = ground;
    return true;
  }

  function askLegalGround() {
    if (ui.thread.open) {
      say(
        "Illegal content needs its legal ground: close the thread, type it under the " +
          "comment, then reject.",
      );
      return;
    }
    ui.legal.hidden = false;
    ui.legalGround.focus();
    say("Type the legal ground (the law the comment breaks), then press Enter to reject.");
  }

  function postDecision(id, body) {
    return api(`/v1/moderation/comments/${encodeURIComponent(id)}/decision`, {
      method: "POST",
      body,
    });
  }

  function decidedMessage(action, item, code) {
    const coded = code ? ` (${REASON_NAMES[code] || code})` : "";
    const reported = item.reports || item.status === "hidden";
    if (action === "approve") return "Approved. It will be published.";
    if (action === "keep") {
      return item.status === "hidden" || (item.reports && item.reports.hidden)
        ? "Kept: it is published again and its reports were dismissed."
        : "Kept: it stays published and its reports were dismissed.";
    }
    return reported ? `Rejected${coded}; its reports were upheld.` : `Rejected${coded}.`;
  }

  // A 409 or 422 the moderator can act on, said in words; true when it was one of those.
  // A comment someone else decided or is deciding leaves the list.
  function refused(error, id) {
    if (!(error instanceof ApiError)) return false;
    if (error.status === 422 && error.code === "reason_code_required") {
      say(
        "A rejection needs a code here: press a digit key (1–9, 0) to pick one, then " +
          "reject again.",
      );
      return true;
    }
    if (error.status === 422 && error.code === "legal_ground_required") {
      askLegalGround();
      return true;
    }
    if (error.status === 422) {
      say(`Not sent: ${error.message}`);
      return true;
    }
    if (error.status !== 409) return false;
    const messages = {
      claimed: "Another moderator is reviewing that comment",
      not_held: "That comment is not waiting for a decision any more",
      no_open_reports: "That comment has no open reports any more (another moderator closed them)",
    };
    const listed = state.items.some((item) => item.id === id);
    const message = messages[error.code] || "That comment was already decided elsewhere";
    say(listed ? `${message}; it was taken off your list.` : `${message}.`);
    if (listed) removeItem(id);
    return true;
  }

  function removeItem(id) {
    state.gone.add(id);
    const index = state.items.findIndex((item) => item.id === id);
    if (index < 0) return;
    state.items.splice(index, 1);
    const next = state.items[Math.min(index, state.items.length - 1)];
    state.selectedId = next ? next.id : null;
    clearDecisionFields();
    renderQueue();
    renderDetail();
    if (!ui.thread.open) focusSelected();
  }

  // ---- thread --------------------------------------------------------------------------

  async function openThread() {
    const item = current();
    if (!item || ui.thread.open) return;
    state.thread = {
      id: item.id,
      comment: null,
      ancestors: [],
      replies: [],
      truncated: false,
      next: null,
    };
    ui.threadList.replaceChildren(el("li", "muted", "Loading the thread…"));
    ui.threadStatus.textContent = "";
    ui.threadMore.hidden = true;
    renderCodes();
    ui.thread.showModal();
    await loadThread();
  }

  // A reload after a decision asks for as many replies as were on show, so the moderator's
  // place in a long thread stays.
  async function loadThread(cursor) {
    const thread = state.thread;
    if (!thread) return;
    const shown = Math.min(THREAD_MAX_PAGE, Math.max(THREAD_PAGE, thread.replies.length));
    const query = cursor
      ? `?limit=${THREAD_PAGE}&cursor=${encodeURIComponent(cursor)}`
      : `?limit=${shown}`;
    try {
      const path = `/v1/moderation/comments/${encodeURIComponent(thread.id)}/thread`;
      const body = await api(path + query);
      if (state.thread !== thread) return;
      if (cursor) {
        thread.replies.push(...body.replies);
      } else {
        thread.comment = body.comment;
        thread.ancestors = body.ancestors || [];
        thread.truncated = Boolean(body.ancestors_truncated);
        thread.replies = body.replies || [];
      }
      thread.next = body.next || null;
      renderThread(!cursor);
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        ui.thread.close();
        handleFailure(error);
        return;
      }
      say(error instanceof ApiError ? error.message : "The server is not answering; try again.");
    }
  }

  // A re-render after a decision puts focus back where it was: on the same button, or on
  // the first button (else the entry) of the same comment.
  function renderThread(focusCurrent) {
    const thread = state.thread;
    const active = document.activeElement;
    const focusedKey = ui.threadList.contains(active) ? active.dataset.key : undefined;
    const focusedEntry = ui.threadList.contains(active) ? active.closest(".thread-entry") : null;
    const focusedId = focusedEntry ? focusedEntry.dataset.id : undefined;
    const entries = [];
    if (thread.truncated) {
      entries.push(el("li", "thread-note muted", "Earlier comments are not shown."));
    }
    for (const ancestor of thread.ancestors) entries.push(threadEntry(ancestor, "Earlier"));
    if (thread.comment) entries.push(threadEntry(thread.comment, "This comment"));
    for (const reply of thread.replies) entries.push(threadEntry(reply, "Reply"));
    if (thread.comment && !thread.replies.length) {
      entries.push(el("li", "thread-note muted", "No replies."));
    }
    ui.threadList.replaceChildren(...entries);
    ui.threadMore.hidden = !thread.next;
    const find = (selector) => ui.threadList.querySelector(selector);
    let target = null;
    if (focusedKey) target = find(`button[data-key="${CSS.escape(focusedKey)}"]`);
    if (!target && focusedId) {
      const entry = find(`.thread-entry[data-id="${CSS.escape(focusedId)}"]`);
      target = entry && (entry.querySelector("button") || entry);
    }
    if (!target && (focusCurrent || focusedId)) {
      const entry = find(".thread-current");
      target = entry && (entry.querySelector("button") || entry);
    }
    if (target) target.focus();
  }

  // The actions a comment of the thread can take: a held one is approved or rejected; a
  // published one rejected (a reversal, so `override`), or kept when readers reported it; a
  // hidden one kept or rejected; a rejected one approved (a reversal).
  function threadActions(comment) {
    const reported =
      comment.status === "hidden" ||
      state.items.some((item) => item.id === comment.id && item.reports);
    switch (comment.status) {
      case "held":
        return [["approve", false], ["reject", false]];
      case "approved":
        return reported ? [["keep", false], ["reject", false]] : [["reject", true]];
      case "hidden":
        return [["keep", false], ["reject", false]];
      case "rejected":
        return [["approve", true]];
      default:
        return [];
    }
  }

  const ACTION_NAMES = { approve: "Approve", reject: "Reject", keep: "Keep" };

  function threadEntry(comment, relation) {
    const li = el("li", `thread-entry${relation === "This comment" ? " thread-current" : ""}`);
    li.dataset.id = comment.id;
    li.tabIndex = -1;
    const head = el("div", "thread-meta");
    head.append(
      el("span", "thread-relation", relation),
      el("span", "mono", comment.author_id),
      statusBadge(comment.status),
      el("span", "muted", ago(comment.created_at)),
    );
    if (comment.replies_count) {
      head.append(el("span", "muted", repliesText(comment.replies_count)));
    }
    li.append(head, el("p", "thread-text", comment.text));
    const buttons = el("div", "thread-buttons");
    for (const [action, override] of threadActions(comment)) {
      const button = el("button", `small ${action}`, ACTION_NAMES[action]);
      button.type = "button";
      button.dataset.key = `${comment.id}:${action}`;
      const about = `${comment.author_id}’s comment: ${String(comment.text ?? "").slice(0, 60)}`;
      button.setAttribute("aria-label", `${ACTION_NAMES[action]} ${about}`);
      if (override) button.title = "Reverses an earlier decision";
      button.addEventListener("click", () => decideInThread(comment, action, override));
      buttons.append(button);
    }
    if (buttons.children.length) li.append(buttons);
    return li;
  }

  async function decideInThread(comment, action, override) {
    if (state.busy) return;
    const body = { action, version: comment.version };
    if (override) body.override = true;
    const selected = comment.id === state.selectedId;
    const reason = ui.reason.value.trim();
    if (reason && selected) body.reason = reason;
    if (action === "reject" && !addCode(body, { explain: selected })) return;
    state.busy = true;
    try {
      await postDecision(comment.id, body);
      say(decidedMessage(action, comment, body.reason_code));
      if (state.items.some((item) => item.id === comment.id)) {
        removeItem(comment.id);
        if (state.count !== null) state.count = Math.max(0, state.count - 1);
        renderCounter();
      }
      if (action === "reject") clearDecisionFields();
    } catch (error) {
      if (error instanceof ApiError && error.status === 409 && error.code === "already_decided") {
        say("That comment changed since the thread was loaded; it is shown as it is now.");
      } else if (!refused(error, comment.id)) {
        handleFailure(error);
      }
    } finally {
      state.busy = false;
    }
    await loadThread();
    refresh();
  }

  function closeThread() {
    if (ui.thread.open) ui.thread.close();
  }

  // ---- session -------------------------------------------------------------------------

  async function signIn(raw) {
    sessionStorage.setItem(TOKEN_KEY, raw);
    try {
      await api("/v1/moderation/stats");
    } catch (error) {
      sessionStorage.removeItem(TOKEN_KEY);
      if (error instanceof ApiError && error.status === 401) {
        throw new Error("That token was not accepted: it may be mistyped or expired.");
      }
      if (error instanceof ApiError && error.status === 403) {
        throw new Error("That token does not have the moderator role.");
      }
      throw new Error("The server could not be reached. Try again.");
    }
    startSession();
  }

  function startSession() {
    ui.signin.hidden = true;
    ui.workspace.hidden = false;
    ui.session.hidden = false;
    ui.whoami.textContent = `Signed in as ${whoFromToken(token())}`;
    ui.queue.focus();
    refresh().then(() => {
      focusSelected();
      schedule();
    });
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    window.clearTimeout(state.timer);
    Object.assign(state, { items: [], selectedId: null, count: null, busy: false, thread: null });
    closeThread();
    if (ui.help.open) ui.help.close();
    state.generation += 1;
    state.gone.clear();
    state.renderedQueue = state.renderedDetail = null;
    ui.queue.replaceChildren();
    ui.detailBody.replaceChildren();
    ui.workspace.hidden = true;
    ui.session.hidden = true;
    ui.counter.hidden = true;
    delete ui.counter.dataset.held;
    ui.signin.hidden = false;
    ui.signinError.textContent = message || "";
    ui.token.value = "";
    ui.token.focus();
  }

  // ---- events --------------------------------------------------------------------------

  ui.signinForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const raw = ui.token.value.trim();
    ui.signinError.textContent = "";
    if (!raw) {
      ui.signinError.textContent = "Paste your token first.";
      ui.token.focus();
      return;
    }
    try {
      await signIn(raw);
      ui.token.value = "";
    } catch (error) {
      ui.signinError.textContent = error.message;
      ui.token.focus();
    }
  });

  ui.signOut.addEventListener("click", () => signOut("You have signed out."));
  ui.helpButton.addEventListener("click", () => toggleHelp());
  ui.approve.addEventListener("click", () => decide("approve"));
  ui.reject.addEventListener("click", () => decide("reject"));
  ui.openThread.addEventListener("click", () => openThread());
  ui.threadMore.addEventListener("click", () => {
    if (state.thread && state.thread.next) loadThread(state.thread.next);
  });
  ui.thread.addEventListener("close", () => {
    state.thread = null;
    ui.threadList.replaceChildren();
    focusSelected();
  });
  for (const tab of ui.tabs) {
    tab.addEventListener("click", () => switchView(tab.dataset.view));
    tab.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
      event.preventDefault();
      const other = ui.tabs.find((candidate) => candidate !== tab);
      switchView(other.dataset.view);
      other.focus();
    });
  }
  const savedView = sessionStorage.getItem(VIEW_KEY);
  if (Object.hasOwn(VIEWS, savedView)) state.view = savedView;
  renderView();
  renderCodes();
  const savedSort = sessionStorage.getItem(SORT_KEY);
  if ([...ui.sort.options].some((option) => option.value === savedSort)) ui.sort.value = savedSort;
  ui.sort.addEventListener("change", () => {
    sessionStorage.setItem(SORT_KEY, ui.sort.value);
    refresh();
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && token()) refresh();
  });

  function toggleHelp() {
    if (ui.help.open) ui.help.close();
    else ui.help.showModal();
  }

  function typing(target) {
    return target instanceof HTMLElement && target.matches("input, textarea, select");
  }

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (ui.workspace.hidden) return;
    if (ui.help.open) {
      if (event.key === "?") {
        event.preventDefault();
        toggleHelp();
      }
      return;
    }
    if (typing(event.target)) {
      if (event.key === "Enter" && event.target === ui.legalGround) {
        event.preventDefault();
        decide("reject");
      } else if (event.key === "Escape") {
        event.target.blur();
        focusSelected();
      }
      return;
    }
    const digit = /^[0-9]$/.test(event.key) ? Number(event.key) : null;
    if (digit !== null) {
      event.preventDefault();
      pickCode(REASON_CODES[(digit + 9) % 10]);
      return;
    }
    if (ui.thread.open) {
      // Inside the thread its buttons and Tab do the work; Esc (the dialog's own) or t closes it.
      if (event.key === "t") {
        event.preventDefault();
        closeThread();
      }
      return;
    }
    const actions = {
      j: () => move(1),
      k: () => move(-1),
      ArrowDown: () => move(1),
      ArrowUp: () => move(-1),
      a: () => decide("approve"),
      r: () => decide("reject"),
      t: () => openThread(),
      v: () => switchView(state.view === "held" ? "reported" : "held"),
      "?": () => toggleHelp(),
    };
    const action = actions[event.key];
    if (!action) return;
    if (event.key.startsWith("Arrow") && !ui.queue.contains(event.target)) return;
    event.preventDefault();
    action();
  });

  if (token()) startSession();
  else ui.token.focus();
})();

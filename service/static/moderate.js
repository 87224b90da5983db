// The moderators' page: sign in with a token, then work through the hold queue.
//
// Rules this file keeps: comment text only ever reaches the page through textContent and
// createElement (never innerHTML), and the token lives in sessionStorage and travels only
// in an Authorization header (never in a URL).
"use strict";

(() => {
  const TOKEN_KEY = "moderation.token";
  const SORT_KEY = "moderation.sort";
  const BATCH = 25;
  const POLL_MS = 10000;

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
    detailBody: $("detail-body"),
    actions: $("actions"),
    reason: $("decision-reason"),
    approve: $("approve"),
    reject: $("reject"),
    notice: $("notice"),
  };

  // `gone`: ids decided here, kept out of a poll answer that was already on its way.
  const state = {
    items: [],
    selectedId: null,
    held: null,
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

  function say(message) {
    ui.notice.textContent = "";
    // A fresh text node makes screen readers announce the same message twice in a row.
    window.setTimeout(() => {
      ui.notice.textContent = message;
    }, 50);
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
    for (const kind of new Set(reasonsOf(item).map((reason) => reason.kind))) {
      kinds.append(kindBadge(kind));
    }
    const level = item.max_score >= 0.8 ? "high" : item.max_score >= 0.5 ? "medium" : "low";
    const score = el("span", `score-pill score-${level}`, scoreText(item.max_score));
    score.title = "Highest model score";
    top.append(kinds, score);

    const meta = el("div", "entry-meta");
    meta.append(
      el("span", null, item.article_id),
      el("span", null, `by ${item.author_id}`),
      el("span", null, ago(item.created_at)),
    );
    li.append(top, highlightedText(item.text, reasonsOf(item), "entry-text"), meta);
    li.addEventListener("click", () => select(item.id, { focus: true }));
    return li;
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
    ui.detailBody.append(
      facts(item),
      highlightedText(item.text, reasonsOf(item), "comment-text"),
      section("Why it was held", reasonList(item)),
      section("Model scores", scoreList(item)),
    );
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
    const counts = el("span", "counts");
    for (const key of ["approved", "rejected", "held"]) {
      const count = el("span", `count count-${key}`);
      count.append(el("strong", null, record[key] ?? 0), document.createTextNode(` ${key}`));
      counts.append(count);
    }
    fact("Author’s record", counts);
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
    if (state.held === null || ui.counter.dataset.held === String(state.held)) return;
    ui.counter.dataset.held = String(state.held);
    ui.counter.hidden = false;
    ui.counter.replaceChildren(
      el("strong", null, state.held),
      el("span", null, state.held === 1 ? " comment left" : " comments left"),
    );
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
      ui.reason.value = "";
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
      const sort = ui.sort.value;
      const [page, stats] = await Promise.all([
        api(`/v1/moderation/queue?claim=${BATCH}&sort=${encodeURIComponent(sort)}`),
        api("/v1/moderation/stats"),
      ]);
      if (generation !== state.generation) return; // a newer refresh has started
      state.items = page.items.filter((item) => !state.gone.has(item.id));
      state.held = stats.held;
      if (!current()) state.selectedId = state.items.length ? state.items[0].id : null;
      renderQueue();
      renderDetail();
      renderCounter();
    } catch (error) {
      handleFailure(error);
    }
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

  async function decide(action) {
    const item = current();
    if (!item || state.busy) return;
    state.busy = true;
    ui.approve.disabled = ui.reject.disabled = true;
    const reason = ui.reason.value.trim();
    const body = { action, version: item.version };
    if (reason) body.reason = reason;
    try {
      await api(`/v1/moderation/comments/${encodeURIComponent(item.id)}/decision`, {
        method: "POST",
        body,
      });
      say(action === "approve" ? "Approved. It will be published." : "Rejected.");
      removeItem(item.id);
      if (state.held !== null) state.held = Math.max(0, state.held - 1);
      renderCounter();
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        say(
          error.code === "claimed"
            ? "Another moderator is reviewing that comment; it was taken off your list."
            : "That comment was already decided elsewhere; it was taken off your list.",
        );
        removeItem(item.id);
      } else {
        handleFailure(error);
      }
    } finally {
      state.busy = false;
      ui.approve.disabled = ui.reject.disabled = false;
    }
    if (!state.items.length) refresh();
  }

  function removeItem(id) {
    state.gone.add(id);
    const index = state.items.findIndex((item) => item.id === id);
    if (index < 0) return;
    state.items.splice(index, 1);
    const next = state.items[Math.min(index, state.items.length - 1)];
    state.selectedId = next ? next.id : null;
    ui.reason.value = "";
    renderQueue();
    renderDetail();
    focusSelected();
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
    Object.assign(state, { items: [], selectedId: null, held: null, busy: false });
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
      if (event.key === "Escape") {
        event.target.blur();
        focusSelected();
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

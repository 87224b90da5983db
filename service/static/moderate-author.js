// The moderators' page: one view of the selected comment's author, beside the comment (`u`):
// their comments counted by status, trust, sanctions (with warn and suspend), moderators'
// notes (with a form to add one), the reports they made and their recent comments. The
// comment's details show the author's latest notes too, from the same record.
"use strict";

(() => {
  const moderation = (window.moderation = window.moderation || {});
  const {
    REASON_NAMES, ui, t, named, el, ago, statusBadge, current, api, ApiError, handleFailure,
  } = moderation;

  const NOTE_MAX = 2000;
  const NOTES_IN_DETAIL = 3;
  const DETAIL_RECORD_MS = 15000;
  const HOUR_MS = 3600 * 1000;
  const COUNT_ORDER = ["pending", "approved", "held", "rejected", "hidden", "deleted"];
  // The problem codes of the author routes the catalogue words for the moderator
  // (`author.problem.<code>`); any other problem is shown as the server said it.
  const PROBLEMS = [
    "until_required", "until_not_allowed", "until_in_past", "until_too_far",
    "invalid_reason_code", "not_in_force", "invalid_author_id",
  ];
  const sanctionName = (kind) => named("author.sanction", kind);
  const dateText = (iso) => window.i18n.date(iso);

  const pane = {
    root: document.getElementById("author"),
    title: document.getElementById("author-title"),
    status: document.getElementById("author-status"),
    body: document.getElementById("author-body"),
    close: document.getElementById("author-close"),
    open: document.getElementById("open-author"),
    workspace: ui.workspace,
  };

  // `view`: the author on show (null when the pane is closed), their record, the comments
  // loaded so far and the cursor for more. `generation` drops answers that came too late.
  const view = { authorId: null, record: null, comments: [], next: null, generation: 0 };
  // Records fetched for the comment's details, by author id: { at, promise }.
  const detailRecords = new Map();

  function recordPath(authorId, suffix = "") {
    return `/v1/moderation/authors/${encodeURIComponent(authorId)}${suffix}`;
  }

  function isOpen() {
    return !pane.root.hidden;
  }

  function tell(message) {
    pane.status.textContent = "";
    window.setTimeout(() => {
      pane.status.textContent = message;
    }, 50);
  }

  function problemText(error) {
    if (error instanceof ApiError) {
      return PROBLEMS.includes(error.code) ? t(`author.problem.${error.code}`) : error.message;
    }
    return t("error.try_again");
  }

  // A 401 or 403 ends the session, as everywhere on the page; anything else is said here.
  // `failure`: the catalogue key of what did not happen, with a {problem} placeholder.
  function failed(error, failure) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      handleFailure(error);
      return;
    }
    tell(t(failure, { problem: problemText(error) }));
  }

  // ---- open, close, follow the selection ------------------------------------------------

  function toggleAuthor() {
    if (isOpen()) closeAuthor();
    else openAuthor();
  }

  function openAuthor() {
    const item = current();
    if (!item) {
      moderation.say(t("author.select_first"));
      return;
    }
    pane.root.hidden = false;
    pane.workspace.classList.add("with-author");
    pane.open.setAttribute("aria-expanded", "true");
    loadAuthor(item.author_id);
  }

  function closeAuthor({ focus = true } = {}) {
    if (!isOpen()) return;
    view.generation += 1;
    Object.assign(view, { authorId: null, record: null, comments: [], next: null });
    pane.root.hidden = true;
    pane.workspace.classList.remove("with-author");
    pane.open.setAttribute("aria-expanded", "false");
    pane.body.replaceChildren();
    pane.status.textContent = "";
    if (focus && pane.root.contains(document.activeElement)) moderation.focusSelected();
    else if (focus && document.activeElement === document.body) moderation.focusSelected();
  }

  // The pane follows the selection: another comment by another author shows that author.
  function followSelection(item) {
    if (!isOpen()) return;
    if (!item) {
      closeAuthor({ focus: false });
      return;
    }
    if (item.author_id !== view.authorId) loadAuthor(item.author_id);
  }

  async function loadAuthor(authorId) {
    const generation = ++view.generation;
    Object.assign(view, { authorId, record: null, comments: [], next: null });
    pane.title.textContent = t("author.title", { author: authorId });
    pane.body.replaceChildren(el("p", "muted", t("author.loading")));
    pane.status.textContent = "";
    try {
      const record = await api(recordPath(authorId));
      if (generation !== view.generation) return;
      showRecord(record);
      rememberForDetail(authorId, record);
      tell(t("author.showing", { author: authorId, counts: countsSentence(record.counts || {}) }));
    } catch (error) {
      if (generation !== view.generation) return;
      pane.body.replaceChildren(el("p", "muted", t("author.load_failed")));
      failed(error, "author.failed.load");
    }
  }

  async function reloadRecord() {
    const authorId = view.authorId;
    if (!authorId) return;
    const generation = view.generation;
    detailRecords.delete(authorId);
    try {
      const record = await api(recordPath(authorId));
      if (generation !== view.generation) return;
      showRecord(record, { keepComments: true });
      rememberForDetail(authorId, record);
      refreshDetailNotes(authorId);
    } catch (error) {
      if (generation === view.generation) failed(error, "author.failed.reload");
    }
  }

  // ---- the record -----------------------------------------------------------------------

  function showRecord(record, { keepComments = false } = {}) {
    view.record = record;
    const comments = record.comments || {};
    if (!keepComments || !view.comments.length) {
      view.comments = Array.isArray(comments.items) ? comments.items.slice() : [];
      view.next = comments.next_cursor || null;
    }
    const focusedId = pane.body.contains(document.activeElement)
      ? document.activeElement.id
      : null;
    const draft = document.getElementById("author-note");
    const draftText = draft ? draft.value : "";
    const explanation = document.getElementById("author-sanction-explanation");
    const explanationText = explanation ? explanation.value : "";
    pane.body.replaceChildren(
      summarySection(record),
      trustSection(record.trust),
      sanctionSection(record),
      notesSection(record.notes),
      reportsSection(record.reports),
      commentsSection(),
    );
    const note = document.getElementById("author-note");
    if (note && draftText) {
      note.value = draftText;
      updateNoteCount();
    }
    const again = document.getElementById("author-sanction-explanation");
    if (again && explanationText) again.value = explanationText;
    if (focusedId) {
      const target = document.getElementById(focusedId);
      if (target) target.focus();
    }
  }

  function section(title, className, ...children) {
    const wrapper = el("section", `facet author-facet ${className}`);
    wrapper.append(el("h3", null, title), ...children);
    return wrapper;
  }

  function when(iso) {
    if (!iso) return null;
    const node = el("time", null, ago(iso));
    node.dateTime = iso;
    node.title = dateText(iso);
    return node;
  }

  function countsSentence(counts) {
    const total = COUNT_ORDER.reduce((sum, key) => sum + (Number(counts[key]) || 0), 0);
    if (!total) return t("author.counts.none");
    return t("author.counts", {
      count: total,
      approved: Number(counts.approved ?? 0),
      rejected: Number(counts.rejected ?? 0),
    });
  }

  function summarySection(record) {
    const counts = record.counts || {};
    const list = el("ul", "author-counts");
    for (const key of COUNT_ORDER) {
      const li = el("li", `author-count count-${key}`);
      li.dataset.status = key;
      li.append(
        el("strong", null, window.i18n.number(counts[key] ?? 0)),
        document.createTextNode(" "),
      );
      li.append(statusBadge(key));
      list.append(li);
    }
    const facts = el("dl", "facts author-dates");
    const fact = (term, value) => {
      const wrapper = el("div", "fact");
      const definition = el("dd");
      definition.append(value || el("span", "muted", t("author.none_yet")));
      wrapper.append(el("dt", null, term), definition);
      facts.append(wrapper);
    };
    fact(t("author.first_comment"), when(record.first_comment_at));
    fact(t("author.last_comment"), when(record.last_comment_at));
    return section(t("author.by_status"), "author-summary", list, facts);
  }

  function trustSection(trust) {
    const info = trust || {};
    const known = window.i18n.has(`author.trust.${info.state}`);
    const head = el("p", "author-trust-state");
    head.append(el("span", `badge trust trust-${known ? info.state : "other"}`,
      known ? t(`author.trust.${info.state}`) : String(info.state ?? t("author.trust.unknown"))));
    if (info.rule) head.append(el("span", "mono muted", info.rule));
    const children = [head];
    if (info.message) children.push(el("p", "author-trust-message", info.message));
    return section(t("author.trust"), "author-trust", ...children);
  }

  function sanctionLine(sanction) {
    const li = el("li", `author-sanction sanction-${sanction.kind}`);
    const head = el("p", "author-sanction-head");
    head.append(el("span", `badge sanction sanction-badge-${sanction.kind}`,
      sanctionName(sanction.kind)));
    if (sanction.kind === "suspension" && sanction.until) {
      head.append(document.createTextNode(
        ` ${t("author.until", { when: dateText(sanction.until) })}`));
    }
    if (sanction.in_force) head.append(el("span", "badge in-force", t("author.in_force")));
    else if (sanction.lifted_at) head.append(el("span", "badge lifted", t("author.lifted")));
    else if (sanction.kind !== "warning") head.append(el("span", "badge lifted", t("author.over")));
    li.append(head);
    const meta = el("p", "author-sanction-meta muted");
    const given = sanction.created_by
      ? t("author.given_by", { moderator: sanction.created_by })
      : t("author.given");
    meta.append(document.createTextNode(`${given} `), when(sanction.created_at) || "");
    if (sanction.lifted_at) {
      const lifted = sanction.lifted_by
        ? t("author.lifted_by", { moderator: sanction.lifted_by })
        : t("author.lifted_at");
      meta.append(document.createTextNode(`; ${lifted} `), when(sanction.lifted_at));
    }
    li.append(meta);
    if (sanction.reason_code) {
      li.append(el("p", "author-sanction-code",
        t("code.picked", { code: REASON_NAMES[sanction.reason_code] || sanction.reason_code })));
    }
    if (sanction.explanation) li.append(el("p", "author-sanction-explanation", sanction.explanation));
    return li;
  }

  function sanctionSection(record) {
    const children = [];
    const currentOne = record.sanction;
    if (currentOne) {
      const box = el("ul", "author-sanction-current");
      const line = sanctionLine(currentOne);
      if (currentOne.in_force && currentOne.kind !== "warning") {
        const lift = el("button", "small quiet", t("author.lift"));
        lift.type = "button";
        lift.id = "author-lift";
        lift.addEventListener("click", () => liftSanction(currentOne));
        line.append(lift);
      }
      box.append(line);
      children.push(box);
    } else {
      children.push(el("p", "author-no-sanction muted", t("author.no_sanction")));
    }

    const form = el("div", "author-sanction-form");
    const label = el("label", null, `${t("author.sanction_explanation")} `);
    label.htmlFor = "author-sanction-explanation";
    label.append(el("span", "optional", t("author.sanction_explanation.hint")));
    const input = el("input");
    input.type = "text";
    input.id = "author-sanction-explanation";
    input.maxLength = NOTE_MAX;
    input.autocomplete = "off";
    const buttons = el("div", "author-sanction-buttons");
    const button = (id, text, className, onClick) => {
      const node = el("button", `small ${className}`, text);
      node.type = "button";
      node.id = id;
      node.addEventListener("click", onClick);
      buttons.append(node);
    };
    button("author-warn", t("author.warn"), "warn", () => sanction("warning"));
    button("author-suspend-day", t("author.suspend_day"), "suspend", () =>
      sanction("suspension", 24));
    button("author-suspend-week", t("author.suspend_week"), "suspend", () =>
      sanction("suspension", 24 * 7));
    form.append(label, input, buttons);
    children.push(form);

    const history = (Array.isArray(record.sanctions) ? record.sanctions : []);
    if (history.length) {
      const list = el("ul", "author-sanction-history");
      for (const entry of history) list.append(sanctionLine(entry));
      const details = el("details", "author-history");
      details.append(el("summary", null, t("author.history", { count: history.length })), list);
      children.push(details);
    }
    return section(t("author.sanction"), "author-sanctions", ...children);
  }

  function notesSection(notes) {
    const items = Array.isArray(notes) ? notes : [];
    const form = el("form", "author-note-form");
    form.noValidate = true;
    const label = el("label", null, `${t("author.note.add")} `);
    label.htmlFor = "author-note";
    label.append(el("span", "optional", t("author.note.hint", { max: NOTE_MAX })));
    const text = el("textarea");
    text.id = "author-note";
    text.rows = 3;
    text.maxLength = NOTE_MAX;
    text.setAttribute("aria-describedby", "author-note-count");
    const count = el("p", "author-note-count muted", noteCount(0));
    count.id = "author-note-count";
    text.addEventListener("input", updateNoteCount);
    const submit = el("button", "small primary", t("author.note.submit"));
    submit.type = "submit";
    submit.id = "author-note-submit";
    const row = el("div", "author-note-row");
    row.append(count, submit);
    form.append(label, text, row);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      addNote();
    });
    text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        addNote();
      }
    });

    const list = el("ol", "author-notes");
    list.id = "author-notes";
    for (const note of items) list.append(noteEntry(note));
    const children = [form];
    if (items.length) children.push(list);
    else children.push(el("p", "author-no-notes muted", t("author.no_notes")));
    return section(t("author.notes", { count: items.length }), "author-notes-facet", ...children);
  }

  function noteEntry(note) {
    const li = el("li", "author-note");
    li.append(el("p", "author-note-text", note.text));
    const meta = el("p", "author-note-meta muted");
    meta.append(document.createTextNode(`${note.moderator_id ?? t("author.a_moderator")} · `));
    meta.append(when(note.at) || "");
    li.append(meta);
    return li;
  }

  function updateNoteCount() {
    const text = document.getElementById("author-note");
    const count = document.getElementById("author-note-count");
    if (!text || !count) return;
    const length = Array.from(text.value).length;
    count.textContent = noteCount(length);
    count.classList.toggle("over", length > NOTE_MAX);
  }

  // Digits as typed, no grouping: "58 / 2000".
  function noteCount(length) {
    return t("author.note.count", { length: String(length), max: String(NOTE_MAX) });
  }

  function reportsSection(reports) {
    const info = reports || {};
    const list = el("ul", "author-reports");
    const item = (value, label) => {
      const li = el("li");
      li.append(
        el("strong", null, window.i18n.number(value ?? 0)),
        document.createTextNode(` ${t(`author.reports.${label}`)}`),
      );
      list.append(li);
    };
    item(info.made, "made");
    item(info.open, "open");
    item(info.upheld, "upheld");
    item(info.dismissed, "dismissed");
    const precision = typeof info.precision === "number"
      ? t("author.precision", {
          percent: window.i18n.number(info.precision, { style: "percent" }),
        })
      : t("author.precision.none");
    return section(t("author.reports"), "author-reports-facet", list,
      el("p", "author-precision", precision));
  }

  function commentsSection() {
    const list = el("ol", "author-comments");
    list.id = "author-comments";
    for (const comment of view.comments) list.append(commentEntry(comment));
    const children = [];
    if (view.comments.length) children.push(list);
    else children.push(el("p", "muted", t("author.no_comments")));
    if (view.next) {
      const more = el("button", "small quiet", t("author.more"));
      more.type = "button";
      more.id = "author-more";
      more.addEventListener("click", moreComments);
      children.push(more);
    }
    return section(t("author.recent"), "author-comments-facet", ...children);
  }

  function commentEntry(comment) {
    const li = el("li", "author-comment");
    li.dataset.id = comment.id;
    if (comment.id === moderation.state.selectedId) li.classList.add("author-comment-selected");
    const head = el("p", "author-comment-meta");
    head.append(statusBadge(comment.status), document.createTextNode(" "));
    head.append(el("span", "mono", comment.article_id), document.createTextNode(" · "));
    head.append(when(comment.created_at) || "");
    if (comment.parent_id) head.append(document.createTextNode(` · ${t("queue.a_reply")}`));
    if (comment.revision > 1) head.append(el("span", "badge edited", t("queue.edited")));
    li.append(head);
    if (comment.status === "deleted" || comment.text === null || comment.text === undefined) {
      li.append(el("p", "author-comment-text muted", t("author.text_gone")));
    } else {
      li.append(el("p", "author-comment-text", comment.text));
    }
    const decided = decisionText(comment);
    if (decided) li.append(el("p", "author-comment-decision muted", decided));
    return li;
  }

  function decisionText(comment) {
    const parts = [];
    const decision = comment.decision;
    if (decision && decision.action) {
      const name = named("author.decision", decision.action);
      const reasons = Array.isArray(decision.reasons) ? decision.reasons : [];
      const why = reasons.map((reason) => reason.message || reason.rule).filter(Boolean);
      const by = decision.by && decision.by !== "policy"
        ? t("author.decided_by", { action: name, by: decision.by })
        : t("author.decided_by_policy", { action: name });
      parts.push(why.length ? t("author.decided_why", { decided: by, why: why.join("; ") }) : by);
    }
    const review = comment.review;
    if (review && review.action) {
      const name = named("author.decision", review.action);
      const by = t("author.decided_by", {
        action: name,
        by: review.moderator_id || t("author.a_moderator"),
      });
      parts.push(review.reason_code
        ? t("author.reviewed_coded", {
            decided: by,
            code: REASON_NAMES[review.reason_code] || review.reason_code,
          })
        : by);
    }
    return parts.join(t("author.decisions_joiner"));
  }

  // ---- actions --------------------------------------------------------------------------

  async function moreComments() {
    const authorId = view.authorId;
    const cursor = view.next;
    if (!authorId || !cursor) return;
    const generation = view.generation;
    const button = document.getElementById("author-more");
    if (button) button.disabled = true;
    try {
      const record = await api(recordPath(authorId, `?cursor=${encodeURIComponent(cursor)}`));
      if (generation !== view.generation) return;
      const page = record.comments || {};
      const items = Array.isArray(page.items) ? page.items : [];
      const known = new Set(view.comments.map((comment) => comment.id));
      view.comments.push(...items.filter((comment) => !known.has(comment.id)));
      view.next = page.next_cursor || null;
      const list = document.getElementById("author-comments");
      const facet = list ? list.closest(".author-comments-facet") : null;
      const fresh = commentsSection();
      if (facet) facet.replaceWith(fresh);
      tell(t("author.more_shown", { count: items.length }));
      const next = document.getElementById("author-more");
      if (next) next.focus();
      else {
        const entries = fresh.querySelectorAll(".author-comment");
        const first = entries[entries.length - items.length];
        if (first) {
          first.tabIndex = -1;
          first.focus();
        }
      }
    } catch (error) {
      if (button) button.disabled = false;
      if (generation === view.generation) failed(error, "author.failed.more");
    }
  }

  async function addNote() {
    const authorId = view.authorId;
    const input = document.getElementById("author-note");
    const submit = document.getElementById("author-note-submit");
    if (!authorId || !input) return;
    const text = input.value.trim();
    if (!text) {
      tell(t("author.note.empty"));
      input.focus();
      return;
    }
    if (Array.from(text).length > NOTE_MAX) {
      tell(t("author.note.too_long", { max: NOTE_MAX }));
      input.focus();
      return;
    }
    if (submit) submit.disabled = true;
    try {
      await api(recordPath(authorId, "/notes"), { method: "POST", body: { text } });
      if (authorId !== view.authorId) return;
      input.value = "";
      updateNoteCount();
      tell(t("author.note.added"));
      await reloadRecord();
      const again = document.getElementById("author-note");
      if (again) again.focus();
    } catch (error) {
      failed(error, "author.failed.note");
    } finally {
      const button = document.getElementById("author-note-submit");
      if (button) button.disabled = false;
    }
  }

  function untilIn(hours) {
    return new Date(Date.now() + hours * HOUR_MS).toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  async function sanction(kind, hours) {
    const authorId = view.authorId;
    if (!authorId) return;
    const body = { kind };
    if (kind === "suspension") body.until = untilIn(hours);
    const explanation = document.getElementById("author-sanction-explanation");
    const text = explanation ? explanation.value.trim() : "";
    if (text) body.explanation = text;
    const buttons = pane.body.querySelectorAll(".author-sanction-buttons button");
    for (const button of buttons) button.disabled = true;
    try {
      const given = await api(recordPath(authorId, "/sanctions"), { method: "POST", body });
      if (authorId !== view.authorId) return;
      if (explanation) explanation.value = "";
      const ends = given && given.until ? dateText(given.until) : t("author.the_time_given");
      tell(kind === "warning"
        ? t("author.warned", { author: authorId })
        : t("author.suspended", { author: authorId, when: ends }));
      await reloadRecord();
    } catch (error) {
      failed(error, kind === "warning" ? "author.failed.warn" : "author.failed.suspend");
    } finally {
      for (const button of pane.body.querySelectorAll(".author-sanction-buttons button")) {
        button.disabled = false;
      }
    }
  }

  async function liftSanction(given) {
    const authorId = view.authorId;
    if (!authorId || !given || !given.id) return;
    try {
      await api(recordPath(authorId, `/sanctions/${encodeURIComponent(given.id)}`), {
        method: "DELETE",
      });
      if (authorId !== view.authorId) return;
      tell(t("author.lifted_done", { sanction: sanctionName(given.kind) }));
      await reloadRecord();
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        tell(t("author.problem.not_in_force"));
        await reloadRecord();
        return;
      }
      failed(error, "author.failed.lift");
    }
  }

  // ---- the author's latest notes in the comment's details -------------------------------

  function rememberForDetail(authorId, record) {
    detailRecords.set(authorId, { at: Date.now(), promise: Promise.resolve(record) });
  }

  function detailRecord(authorId) {
    const cached = detailRecords.get(authorId);
    if (cached && Date.now() - cached.at < DETAIL_RECORD_MS) return cached.promise;
    const promise = api(recordPath(authorId));
    detailRecords.set(authorId, { at: Date.now(), promise });
    promise.catch(() => detailRecords.delete(authorId));
    return promise;
  }

  // A facet for the comment's details, filled when the author's record arrives; it stays
  // hidden when there is nothing to say (no notes, no sanction in force).
  function authorNotesFacet(item) {
    const facet = el("section", "facet author-detail");
    facet.hidden = true;
    facet.dataset.author = item.author_id;
    fillDetailFacet(facet, item.author_id);
    return facet;
  }

  async function fillDetailFacet(facet, authorId) {
    let record;
    try {
      record = await detailRecord(authorId);
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        handleFailure(error);
      }
      return; // the details do without; the author view (u) says what went wrong
    }
    if (!facet.isConnected) return;
    const notes = Array.isArray(record.notes) ? record.notes : [];
    const sanctionNow = record.sanction && record.sanction.in_force ? record.sanction : null;
    if (!notes.length && !sanctionNow) {
      facet.hidden = true;
      facet.replaceChildren();
      return;
    }
    const children = [el("h3", null, t("author.about"))];
    if (sanctionNow) {
      const line = el("p", "author-detail-sanction");
      line.append(el("span", `badge sanction sanction-badge-${sanctionNow.kind}`,
        sanctionName(sanctionNow.kind)));
      if (sanctionNow.until) {
        line.append(document.createTextNode(
          ` ${t("author.until", { when: dateText(sanctionNow.until) })}`));
      }
      children.push(line);
    }
    if (notes.length) {
      const list = el("ol", "author-notes author-detail-notes");
      for (const note of notes.slice(0, NOTES_IN_DETAIL)) list.append(noteEntry(note));
      children.push(list);
      if (notes.length > NOTES_IN_DETAIL) {
        const rest = notes.length - NOTES_IN_DETAIL;
        children.push(el("p", "muted", t("author.older_notes", { count: rest })));
      }
    }
    facet.replaceChildren(...children);
    facet.hidden = false;
  }

  function refreshDetailNotes(authorId) {
    for (const facet of ui.detailBody.querySelectorAll(".author-detail")) {
      if (facet.dataset.author === authorId) fillDetailFacet(facet, authorId);
    }
  }

  // ---- wiring ---------------------------------------------------------------------------

  pane.open.addEventListener("click", () => toggleAuthor());
  pane.close.addEventListener("click", () => closeAuthor());

  Object.assign(moderation, {
    openAuthor, closeAuthor, toggleAuthor, followSelection, authorNotesFacet,
    authorOpen: isOpen,
  });
})();

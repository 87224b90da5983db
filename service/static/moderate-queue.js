// The moderators' page: the queue, the selected comment's details and the counter.
"use strict";

(() => {
  const moderation = (window.moderation = window.moderation || {});
  const {
    ui, state, t, named, el, ago, repliesText, statusBadge, current, revisionFacet, reportBadges,
    reportFacet,
  } = moderation;

  const LABELS = [
    "severe_toxicity", "threat", "identity_attack", "sexual_explicit", "insult", "obscene",
    "toxicity",
  ];

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
      mark.title = named("kind", kind);
      container.append(mark);
      at = end;
    }
    if (at < points.length) container.append(document.createTextNode(points.slice(at).join("")));
    return container;
  }

  function kindBadge(kind) {
    const known = window.i18n.has(`kind.${kind}`);
    return el("span", `badge kind-${known ? kind : "other"}`, named("kind", kind));
  }

  function scoreText(score) {
    return typeof score === "number"
      ? window.i18n.number(score, { minimumFractionDigits: 2, maximumFractionDigits: 2 })
      : "–";
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
      const count = t("reports.count", { count: reports.total ?? 0 });
      const total = el("span", "score-pill report-pill", count);
      top.append(kinds, total);
    } else {
      for (const kind of new Set(reasonsOf(item).map((reason) => reason.kind))) {
        kinds.append(kindBadge(kind));
      }
      const level = item.max_score >= 0.8 ? "high" : item.max_score >= 0.5 ? "medium" : "low";
      const score = el("span", `score-pill score-${level}`, scoreText(item.max_score));
      score.title = t("queue.top_score");
      top.append(kinds, score);
    }
    if (item.revision > 1) kinds.prepend(el("span", "badge edited", t("queue.edited")));

    const meta = el("div", "entry-meta");
    meta.append(
      el("span", null, item.article_id),
      el("span", null, t("queue.by", { author: item.author_id })),
      el("span", null, ago(item.created_at)),
    );
    if (item.parent) meta.append(el("span", null, t("queue.a_reply")));
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
    // The author's view (moderate-author.js), when open, follows the selection.
    moderation.followSelection(item);
    if (!item) {
      ui.detailBody.append(el("p", "placeholder", state.items.length ? t("detail.select") : ""));
      return;
    }
    ui.detailBody.append(facts(item));
    if (item.parent) ui.detailBody.append(parentBlock(item.parent));
    ui.detailBody.append(highlightedText(item.text, reasonsOf(item), "comment-text"));
    ui.detailBody.append(moderation.authorNotesFacet(item));
    if (item.revision > 1) ui.detailBody.append(revisionFacet(item));
    if (item.reports) {
      ui.detailBody.append(section(t("detail.reports"), reportFacet(item.reports)));
      const scores = scoreList(item);
      if (!scores.querySelector(".muted")) {
        ui.detailBody.append(section(t("detail.scores"), scores));
      }
    } else {
      ui.detailBody.append(
        section(t("detail.why_held"), reasonList(item)),
        section(t("detail.scores"), scoreList(item)),
      );
    }
  }

  // The comment it answers, above it: "so are you" means nothing without it.
  function parentBlock(parent) {
    const block = el("section", "parent");
    block.setAttribute("aria-label", t("detail.in_reply_to"));
    const head = el("p", "parent-head");
    head.append(
      el("span", "parent-label", t("detail.in_reply_to")),
      el("span", "mono", parent.author_id),
    );
    if (parent.status && parent.status !== "approved") head.append(statusBadge(parent.status));
    block.append(head);
    if (parent.status !== "deleted") block.append(el("p", "parent-text", parent.text));
    return block;
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
    fact(t("detail.article"), el("span", "mono", item.article_id));
    const posted = ago(item.created_at);
    const postedText = item.parent_id ? t("detail.posted_as_reply", { when: posted }) : posted;
    const postedAt = el("time", null, postedText);
    postedAt.dateTime = item.created_at;
    postedAt.title = window.i18n.date(item.created_at);
    fact(t("detail.posted"), postedAt);
    const author = el("span", "author");
    author.append(el("span", "mono", item.author_id));
    if (record.banned) author.append(el("span", "badge banned", t("detail.banned")));
    fact(t("detail.author"), author);
    if (item.author_record) {
      const counts = el("span", "counts");
      for (const key of ["approved", "rejected", "held"]) {
        const count = el("span", `count count-${key}`);
        const [before, after] = t(`detail.record.${key}`, { count: "\u0000" }).split("\u0000");
        count.append(
          document.createTextNode(before),
          el("strong", null, window.i18n.number(record[key] ?? 0)),
          document.createTextNode(after ?? ""),
        );
        counts.append(count);
      }
      fact(t("detail.record"), counts);
    }
    if (item.status && item.status !== "held") fact(t("detail.status"), statusBadge(item.status));
    if (typeof item.replies_count === "number") {
      fact(t("detail.replies"), el("span", null, repliesText(item.replies_count)));
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
    if (!list.children.length) list.append(el("li", "muted", t("detail.no_reason")));
    return list;
  }

  function scoreList(item) {
    const list = el("ul", "scores");
    const values = (item.decision && item.decision.scores) || {};
    const labels = LABELS
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
      meter.setAttribute("aria-label", t("detail.score_of", { label: t(`label.${label}`) }));
      row.append(
        el("span", "score-name", t(`label.${label}`)),
        meter,
        el("span", "score-value", scoreText(values[label])),
      );
      list.append(row);
    }
    if (!list.children.length) list.append(el("li", "muted", t("detail.no_scores")));
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
    const [before, after] = t("counter.left", { count: state.count, number: "\u0000" })
      .split("\u0000");
    ui.counter.replaceChildren(
      el("span", null, before),
      el("strong", null, window.i18n.number(state.count)),
      el("span", null, after ?? ""),
    );
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
      moderation.clearDecisionFields();
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

  Object.assign(moderation, { renderQueue, renderDetail, renderCounter, focusSelected, move });
})();

// The moderators' page: the thread of the selected comment in a dialog, where any of its
// comments can be decided.
"use strict";

(() => {
  const moderation = (window.moderation = window.moderation || {});
  const {
    ui, state, t, el, ago, repliesText, say, statusBadge, current, api, ApiError, handleFailure,
    renderCounter, renderCodes, clearDecisionFields, addCode, postDecision, decidedMessage,
    refused, removeItem,
  } = moderation;

  const THREAD_PAGE = 20;
  const THREAD_MAX_PAGE = 100;

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
    ui.threadList.replaceChildren(el("li", "muted", t("thread.loading")));
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
      say(error instanceof ApiError ? error.message : t("error.try_again"));
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
      entries.push(el("li", "thread-note muted", t("thread.truncated")));
    }
    for (const ancestor of thread.ancestors) entries.push(threadEntry(ancestor, "earlier"));
    if (thread.comment) entries.push(threadEntry(thread.comment, "current"));
    for (const reply of thread.replies) entries.push(threadEntry(reply, "reply"));
    if (thread.comment && !thread.replies.length) {
      entries.push(el("li", "thread-note muted", t("thread.no_replies")));
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

  // `relation`: "earlier", "current" or "reply".
  function threadEntry(comment, relation) {
    const li = el("li", `thread-entry${relation === "current" ? " thread-current" : ""}`);
    li.dataset.id = comment.id;
    li.tabIndex = -1;
    const head = el("div", "thread-meta");
    head.append(
      el("span", "thread-relation", t(`thread.relation.${relation}`)),
      el("span", "mono", comment.author_id),
      statusBadge(comment.status),
      el("span", "muted", ago(comment.created_at)),
    );
    if (comment.replies_count) {
      head.append(el("span", "muted", repliesText(comment.replies_count)));
    }
    li.append(head);
    if (comment.status !== "deleted") li.append(el("p", "thread-text", comment.text));
    const buttons = el("div", "thread-buttons");
    for (const [action, override] of threadActions(comment)) {
      const button = el("button", `small ${action}`, t(`action.${action}`));
      button.type = "button";
      button.dataset.key = `${comment.id}:${action}`;
      const about = t(`thread.action_label.${action}`, {
        author: comment.author_id,
        text: String(comment.text ?? "").slice(0, 60),
      });
      button.setAttribute("aria-label", about);
      if (override) button.title = t("thread.reverses");
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
        say(t("thread.changed"));
      } else if (!refused(error, comment.id)) {
        handleFailure(error);
      }
    } finally {
      state.busy = false;
    }
    await loadThread();
    moderation.refresh();
  }

  function closeThread() {
    if (ui.thread.open) ui.thread.close();
  }

  Object.assign(moderation, { openThread, loadThread, closeThread });
})();

// The moderators' page: the reason code picked for a rejection, and sending a decision on a
// comment, with what the server's refusals mean to the moderator.
"use strict";

(() => {
  const moderation = (window.moderation = window.moderation || {});
  const {
    REASON_CODES, ILLEGAL, REASON_NAMES, ui, state, t, el, say, current, api, ApiError,
    handleFailure,
    renderQueue, renderDetail, renderCounter, focusSelected,
  } = moderation;

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
      ? t("thread.code_picked", { code: REASON_NAMES[state.code] })
      : t("thread.code_none");
  }

  function pickCode(code) {
    state.code = state.code === code ? null : code;
    renderCodes();
    say(state.code ? t("code.picked", { code: REASON_NAMES[state.code] }) : t("code.cleared"));
  }

  function clearDecisionFields() {
    ui.reason.value = "";
    ui.explanation.value = "";
    ui.legalGround.value = "";
    state.code = null;
    renderCodes();
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
    if (!state.items.length) moderation.refresh();
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
      say(t("legal.close_thread_first"));
      return;
    }
    ui.legal.hidden = false;
    ui.legalGround.focus();
    say(t("legal.type_ground"));
  }

  function postDecision(id, body) {
    return api(`/v1/moderation/comments/${encodeURIComponent(id)}/decision`, {
      method: "POST",
      body,
    });
  }

  function decidedMessage(action, item, code) {
    const reported = item.reports || item.status === "hidden";
    if (action === "approve") return t("decided.approved");
    if (action === "keep") {
      return item.status === "hidden" || (item.reports && item.reports.hidden)
        ? t("decided.kept_again")
        : t("decided.kept");
    }
    const name = REASON_NAMES[code] || code;
    if (reported) {
      return code
        ? t("decided.rejected_reports_coded", { code: name })
        : t("decided.rejected_reports");
    }
    return code ? t("decided.rejected_coded", { code: name }) : t("decided.rejected");
  }

  // A 409 or 422 the moderator can act on, said in words; true when it was one of those.
  // A comment someone else decided or is deciding leaves the list.
  function refused(error, id) {
    if (!(error instanceof ApiError)) return false;
    if (error.status === 422 && error.code === "reason_code_required") {
      say(t("refused.code_required"));
      return true;
    }
    if (error.status === 422 && error.code === "legal_ground_required") {
      askLegalGround();
      return true;
    }
    if (error.status === 422) {
      say(t("refused.not_sent", { problem: error.message }));
      return true;
    }
    if (error.status !== 409) return false;
    const known = ["claimed", "not_held", "no_open_reports"];
    const listed = state.items.some((item) => item.id === id);
    const message =
      error.commentStatus === "deleted"
        ? t("refused.deleted")
        : known.includes(error.code)
          ? t(`refused.${error.code}`)
          : t("refused.decided_elsewhere");
    say(listed ? t("refused.taken_off", { message }) : t("refused.sentence", { message }));
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

  Object.assign(moderation, {
    renderCodes, pickCode, clearDecisionFields, decide, addCode, postDecision, decidedMessage,
    refused, removeItem,
  });
})();

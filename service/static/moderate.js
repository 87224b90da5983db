// The moderators' page: sign in with a token, then work through the hold queue and the
// queue of comments readers reported, with each comment's thread at hand, an edited
// comment's changes shown word by word and its author's record beside it. This script, the last of the page's, holds the two
// views, the polling, the session and the keyboard, and starts the page; the parts it uses
// come from the scripts before it (moderate-page.js lists the rules they all keep).
"use strict";

(() => {
  const moderation = (window.moderation = window.moderation || {});
  const {
    REASON_CODES, ui, state, t, current, TOKEN_KEY, token, api, ApiError, whoFromToken,
    handleFailure,
    renderQueue, renderDetail, renderCounter, focusSelected, move, renderCodes, pickCode,
    clearDecisionFields, decide, openThread, loadThread, closeThread, toggleAuthor, closeAuthor,
    authorOpen,
  } = moderation;

  const SORT_KEY = "moderation.sort";
  const VIEW_KEY = "moderation.view";
  const BATCH = 25;
  const POLL_MS = 10000;

  // Each view's words are the catalogue's `view.<name>.*`.
  const VIEWS = {
    held: {
      query: () => `queue=held&claim=${BATCH}&sort=${encodeURIComponent(ui.sort.value)}`,
      approve: "action.approve",
    },
    reported: {
      query: () => `queue=reported&claim=${BATCH}`,
      approve: "action.keep",
    },
  };

  // Shortcut keys, and where they sit on a US keyboard (`event.code`). The key's own
  // character counts first, so a Dvorak or AZERTY user presses the letters they see; a key
  // that types no Latin character (a Korean layout's ㅓ for j, an input method's "Process")
  // counts by its place on the keyboard.
  const SHORTCUT_CODES = {
    KeyJ: "j", KeyK: "k", KeyA: "a", KeyR: "r", KeyT: "t", KeyU: "u", KeyV: "v",
    Digit1: "1", Digit2: "2", Digit3: "3", Digit4: "4", Digit5: "5", Digit6: "6",
    Digit7: "7", Digit8: "8", Digit9: "9", Digit0: "0",
  };

  function shortcutOf(event) {
    const key = event.key || "";
    if (key.length > 1 && key !== "Process" && key !== "Unidentified") return key;
    if (/^[\x20-\x7e]$/.test(key)) return key;
    if (event.shiftKey) return event.code === "Slash" ? "?" : key;
    return SHORTCUT_CODES[event.code] || key;
  }

  function renderView() {
    const view = VIEWS[state.view];
    for (const tab of ui.tabs) {
      const selected = tab.dataset.view === state.view;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
    }
    ui.queueTitle.textContent = t(`view.${state.view}.title`);
    ui.heading.textContent = t(`view.${state.view}.heading`);
    ui.empty.textContent = t(`view.${state.view}.empty`);
    ui.sortBox.hidden = state.view !== "held";
    ui.approveLabel.textContent = t(view.approve);
    ui.approve.classList.toggle("keep", state.view === "reported");
    document.title = t("page.title", { heading: t(`view.${state.view}.heading`) });
  }

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

  // ---- session -------------------------------------------------------------------------

  async function signIn(raw) {
    sessionStorage.setItem(TOKEN_KEY, raw);
    try {
      await api("/v1/moderation/stats");
    } catch (error) {
      sessionStorage.removeItem(TOKEN_KEY);
      if (error instanceof ApiError && error.status === 401) {
        throw new Error(t("signin.not_accepted"));
      }
      if (error instanceof ApiError && error.status === 403) {
        throw new Error(t("signin.not_moderator"));
      }
      throw new Error(t("signin.unreachable"));
    }
    startSession();
  }

  function startSession() {
    ui.signin.hidden = true;
    ui.workspace.hidden = false;
    ui.session.hidden = false;
    ui.whoami.textContent = t("session.signed_in_as", { name: whoFromToken(token()) });
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
    state.revisions.clear();
    closeThread();
    closeAuthor({ focus: false });
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
      ui.signinError.textContent = t("signin.empty");
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

  ui.signOut.addEventListener("click", () => signOut(t("session.signed_out")));
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
    // A key that composes Hangul (Enter included, which ends the syllable) is the input
    // method's, never a shortcut.
    if (event.isComposing) return;
    if (ui.workspace.hidden) return;
    const key = shortcutOf(event);
    if (ui.help.open) {
      if (key === "?") {
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
    const digit = /^[0-9]$/.test(key) ? Number(key) : null;
    if (digit !== null) {
      event.preventDefault();
      pickCode(REASON_CODES[(digit + 9) % 10]);
      return;
    }
    if (ui.thread.open) {
      // Inside the thread its buttons and Tab do the work; Esc (the dialog's own) or t closes it.
      if (key === "t") {
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
      u: () => toggleAuthor(),
      v: () => switchView(state.view === "held" ? "reported" : "held"),
      "?": () => toggleHelp(),
    };
    if (authorOpen()) actions.Escape = () => closeAuthor();
    const action = Object.hasOwn(actions, key) ? actions[key] : null;
    if (!action) return;
    if (key.startsWith("Arrow") && !ui.queue.contains(event.target)) return;
    event.preventDefault();
    action();
  });

  window.i18n.bindSwitch(document.getElementById("locale-switch"));

  Object.assign(moderation, { refresh, signOut, shortcutOf });

  if (token()) startSession();
  else ui.token.focus();
})();

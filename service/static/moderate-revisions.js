// The moderators' page: an edited comment's revisions, each shown as its word-by-word changes
// from the one before it.
"use strict";

(() => {
  const moderation = (window.moderation = window.moderation || {});
  const { t, el, ago, state, api, ApiError, handleFailure } = moderation;

  const REVISIONS_KEPT = 50;
  const MAX_DIFF_CELLS = 1000000;

  // Words and the whitespace between them, in order: joined, they give the text back.
  function diffTokens(text) {
    return String(text ?? "").match(/\s+|\S+/g) || [];
  }

  // The word-level difference between two texts, as [kind, text] pieces in reading order:
  // "same", "del" (only in `before`) or "ins" (only in `after`). An edit usually touches a
  // few words, so the common head and tail are set aside before the longest common
  // subsequence of the rest is worked out.
  function wordDiff(before, after) {
    const a = diffTokens(before);
    const b = diffTokens(after);
    let head = 0;
    while (head < a.length && head < b.length && a[head] === b[head]) head += 1;
    let tail = 0;
    while (
      tail < a.length - head &&
      tail < b.length - head &&
      a[a.length - 1 - tail] === b[b.length - 1 - tail]
    ) {
      tail += 1;
    }
    const same = (token) => ["same", token];
    return joinSteps([
      ...a.slice(0, head).map(same),
      ...lcsSteps(a.slice(head, a.length - tail), b.slice(head, b.length - tail)),
      ...a.slice(a.length - tail).map(same),
    ]);
  }

  // One step per token, from a table of the longest common subsequence of every pair of
  // suffixes, where a word weighs more than a space (so a shared word is never given up for a
  // shared space). Texts too long for the table are shown as one removed, the other inserted.
  function lcsSteps(x, y) {
    if (x.length * y.length > MAX_DIFF_CELLS) {
      return [...x.map((token) => ["del", token]), ...y.map((token) => ["ins", token])];
    }
    const width = y.length + 1;
    const common = new Uint32Array((x.length + 1) * width);
    for (let i = x.length - 1; i >= 0; i -= 1) {
      for (let j = y.length - 1; j >= 0; j -= 1) {
        common[i * width + j] =
          x[i] === y[j]
            ? common[(i + 1) * width + j + 1] + (/^\s/.test(x[i]) ? 1 : 2)
            : Math.max(common[(i + 1) * width + j], common[i * width + j + 1]);
      }
    }
    const steps = [];
    let i = 0;
    let j = 0;
    while (i < x.length || j < y.length) {
      if (i < x.length && j < y.length && x[i] === y[j]) {
        steps.push(["same", x[i]]);
        i += 1;
        j += 1;
      } else if (
        j === y.length ||
        (i < x.length && common[(i + 1) * width + j] >= common[i * width + j + 1])
      ) {
        steps.push(["del", x[i]]);
        i += 1;
      } else {
        steps.push(["ins", y[j]]);
        j += 1;
      }
    }
    return steps;
  }

  // Each run of changes reads as what was removed, then what replaced it; a space between
  // two changes joins them rather than splitting one rewording into many marks.
  function joinSteps(steps) {
    const pieces = [];
    let removed = "";
    let inserted = "";
    steps.forEach(([kind, text], n) => {
      const changing = removed || inserted;
      const next = steps[n + 1];
      const joins = kind === "same" && changing && /^\s+$/.test(text) && next && next[0] !== "same";
      if (kind === "del" || joins) removed += text;
      if (kind === "ins" || joins) inserted += text;
      if (kind !== "same" || joins) return;
      if (removed) pieces.push(["del", removed]);
      if (inserted) pieces.push(["ins", inserted]);
      removed = inserted = "";
      const last = pieces[pieces.length - 1];
      if (last && last[0] === "same") last[1] += text;
      else pieces.push(["same", text]);
    });
    if (removed) pieces.push(["del", removed]);
    if (inserted) pieces.push(["ins", inserted]);
    return pieces;
  }

  function loadRevisions(item) {
    const key = `${item.id}@${item.revision}`;
    if (!state.revisions.has(key)) {
      const path = `/v1/comments/${encodeURIComponent(item.id)}/revisions`;
      const loading = api(path).then(
        (body) => {
          const items = Array.isArray(body.items) ? body.items : [];
          return items.sort((a, b) => a.revision - b.revision);
        },
        (error) => {
          state.revisions.delete(key);
          throw error;
        },
      );
      state.revisions.set(key, loading);
      if (state.revisions.size > REVISIONS_KEPT) {
        state.revisions.delete(state.revisions.keys().next().value);
      }
    }
    return state.revisions.get(key);
  }

  // An edited comment's revisions: the current one's changes from the one before it, and a
  // picker for the earlier ones.
  function revisionFacet(item) {
    const facet = el("section", "facet revisions");
    const heading = el(
      "h3",
      null,
      t("revisions.heading", { number: item.revision, latest: item.revision }),
    );
    heading.id = "revisions-title";
    facet.setAttribute("aria-labelledby", heading.id);
    const head = el("div", "revisions-head");
    head.append(heading);
    const view = el("div", "revision-view");
    view.append(el("p", "muted", t("revisions.loading")));
    facet.append(head, view);
    loadRevisions(item).then(
      (revisions) => {
        if (!revisions.length) {
          view.replaceChildren(el("p", "muted", t("revisions.none")));
          return;
        }
        const latest = revisions[revisions.length - 1].revision;
        const show = (number) => {
          heading.textContent = t("revisions.heading", { number, latest });
          view.replaceChildren(...revisionView(revisions, number));
        };
        head.append(revisionPicker(revisions, latest, show));
        show(revisions.some((r) => r.revision === item.revision) ? item.revision : latest);
      },
      (error) => {
        if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
          handleFailure(error);
          return;
        }
        view.replaceChildren(el("p", "muted", t("revisions.failed")));
      },
    );
    return facet;
  }

  function revisionPicker(revisions, latest, show) {
    const label = el("label", "revision-pick");
    const picker = el("select");
    for (const revision of [...revisions].reverse()) {
      const number = revision.revision;
      const key =
        number === latest
          ? "revisions.option.current"
          : number === 1
            ? "revisions.option.first"
            : "revisions.option";
      const option = el("option", null, t(key, { number }));
      option.value = String(revision.revision);
      picker.append(option);
    }
    picker.addEventListener("change", () => show(Number(picker.value)));
    label.append(el("span", null, t("revisions.show")), picker);
    return label;
  }

  // A revision as its changes from the one before it; the first as it was posted. Erased
  // texts (deletion, retention) are said to be so.
  function revisionView(revisions, number) {
    const index = revisions.findIndex((revision) => revision.revision === number);
    const shown = revisions[index];
    const before = index > 0 ? revisions[index - 1] : null;
    const note = before
      ? t("revisions.changes", {
          from: before.revision,
          from_when: ago(before.created_at),
          to: shown.revision,
          to_when: ago(shown.created_at),
        })
      : t("revisions.first", { when: ago(shown.created_at) });
    const parts = [el("p", "revision-note muted", note)];
    if (shown.text === null || shown.text === undefined) {
      parts.push(el("p", "muted", t("revisions.erased")));
    } else if (!before || before.text === null || before.text === undefined) {
      if (before) parts.push(el("p", "muted", t("revisions.before_erased")));
      parts.push(el("p", "comment-text", shown.text));
    } else {
      const diff = el("p", "comment-text diff");
      for (const [kind, text] of wordDiff(before.text, shown.text)) {
        diff.append(kind === "same" ? document.createTextNode(text) : el(kind, null, text));
      }
      parts.push(diff);
    }
    return parts;
  }

  Object.assign(moderation, { revisionFacet });
})();

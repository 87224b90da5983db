// The moderators' page: what readers' reports of a comment say, as badges in the queue and as
// a facet of the selected comment.
"use strict";

(() => {
  const moderation = (window.moderation = window.moderation || {});
  const { t, named, el, ago } = moderation;

  function reasonName(reason) {
    return named("code", reason);
  }

  function byReason(reports) {
    return Object.entries(reports.by_reason || {}).sort((a, b) => b[1] - a[1]);
  }

  // Whether readers' reports took it down, whether one of them is a notice of illegal content,
  // then the counts by reason, most reported first.
  function reportBadges(reports) {
    const badges = [];
    if (reports.hidden) badges.push(el("span", "badge report-hidden", t("reports.hidden")));
    if (Array.isArray(reports.legal_notices) && reports.legal_notices.length) {
      badges.push(el("span", "badge report-legal", t("reports.legal_notice")));
    }
    for (const [reason, count] of byReason(reports)) {
      const badge = el("span", `badge report-reason reason-${reason}`);
      badge.append(document.createTextNode(`${reasonName(reason)} `), el("strong", null, count));
      badges.push(badge);
    }
    return badges;
  }

  function reportFacet(reports) {
    const wrapper = el("div", "reports");
    const summary = el("p", "report-summary");
    summary.append(el("strong", null, t("reports.count", { count: reports.total ?? 0 })));
    const reporters = Array.isArray(reports.reporters) ? reports.reporters : [];
    if (reporters.length) {
      summary.append(
        document.createTextNode(` ${t("reports.from")} `),
        el("span", "mono", reporters.join(", ")),
      );
    }
    if (reports.hidden) {
      summary.append(el("span", "badge report-hidden", t("reports.hidden_until")));
    }
    const counts = el("ul", "report-counts");
    for (const [reason, count] of byReason(reports)) {
      const li = el("li", "report-count");
      li.append(
        el("strong", null, window.i18n.number(count)),
        document.createTextNode(` ${reasonName(reason)}`),
      );
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
      row(t("reports.legal_notice"), notice.at ? ago(notice.at) : "");
      row(t("reports.legal_ground"), notice.legal_ground);
      row(t("reports.explanation"), notice.explanation);
      row(
        t("reports.good_faith"),
        notice.good_faith ? t("reports.good_faith.declared") : t("reports.good_faith.not_declared"),
      );
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
      wrapper.append(el("h4", "report-details-title", t("reports.latest_details")), list);
    }
    return wrapper;
  }

  Object.assign(moderation, { reportBadges, reportFacet });
})();

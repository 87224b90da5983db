// The insights page: sign in with a moderator token, fetch /v1/moderation/insights, and
// draw its numbers as SVG charts with DOM APIs (no library, nothing from another origin).
//
// Rules this file keeps, as moderate.js does: text reaches the page only through
// textContent and createElement(NS), and the token lives in sessionStorage (the same key as
// the hold queue's, so one sign-in serves both pages) and travels only in a header. Every
// message comes from the page's catalogue (service/locales/insights.*.json) through
// window.i18n, and numbers and dates are formatted for the page's language.
"use strict";

(() => {
  const TOKEN_KEY = "moderation.token";
  const SVG_NS = "http://www.w3.org/2000/svg";
  const i18n = window.i18n;
  const t = i18n.t;

  const apiBase = document.body.dataset.apiBase || "";
  const $ = (id) => document.getElementById(id);
  const ui = {
    signin: $("signin"),
    signinForm: $("signin-form"),
    token: $("token"),
    signinError: $("signin-error"),
    report: $("report"),
    controls: $("controls"),
    since: $("since"),
    target: $("target"),
    session: $("session"),
    whoami: $("whoami"),
    signOut: $("sign-out"),
    localeSwitch: $("locale-switch"),
    asOf: $("as-of"),
    tiles: $("tiles"),
    labelCharts: $("label-charts"),
    labelsLegend: $("labels-legend"),
    ruleChart: $("rule-chart"),
    rulesLegend: $("rules-legend"),
    volumeChart: $("volume-chart"),
    volumeLegend: $("volume-legend"),
    ageChart: $("age-chart"),
    reportsBody: $("reports-body"),
    shadowPanel: $("shadow-panel"),
    shadowBody: $("shadow-body"),
    notice: $("notice"),
  };
  let generation = 0;

  // ---- helpers -------------------------------------------------------------------------

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svgEl(tag, attrs, parent) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "text") node.textContent = String(value);
      else if (name === "class") node.setAttribute("class", value);
      else node.setAttribute(name, typeof value === "number" ? round(value) : value);
    }
    if (parent) parent.append(node);
    return node;
  }

  function round(value) {
    return String(Math.round(value * 10) / 10);
  }

  function chart(width, height, label) {
    const root = svgEl("svg", {
      class: "chart",
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-label": label,
    });
    svgEl("title", { text: label }, root);
    return root;
  }

  function tip(node, text) {
    svgEl("title", { text }, node);
    return node;
  }

  function niceMax(value) {
    if (!(value > 0)) return 1;
    const power = 10 ** Math.floor(Math.log10(value));
    for (const step of [1, 2, 2.5, 5, 10]) {
      if (step * power >= value) return step * power;
    }
    return 10 * power;
  }

  // A catalogued name (label.toxicity, reason.spam), or the identifier itself if it has none.
  function named(prefix, id) {
    return i18n.has(`${prefix}.${id}`) ? t(`${prefix}.${id}`) : id;
  }

  function percent(rate) {
    return typeof rate === "number" ? i18n.number(rate, { style: "percent", maximumFractionDigits: 0 }) : "–";
  }

  function fixed(value) {
    return typeof value === "number"
      ? i18n.number(value, { minimumFractionDigits: 2, maximumFractionDigits: 2 })
      : "–";
  }

  function count(value) {
    return i18n.number(Number(value || 0));
  }

  function duration(value, unit, digits) {
    return i18n.number(value, {
      style: "unit",
      unit,
      unitDisplay: "short",
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
  }

  function hours(seconds) {
    if (typeof seconds !== "number") return "–";
    const h = seconds / 3600;
    if (h < 1) return duration(Math.round(seconds / 60), "minute", 0);
    if (h < 48) return duration(h, "hour", h < 10 ? 1 : 0);
    return duration(h / 24, "day", 1);
  }

  function say(message) {
    ui.notice.textContent = "";
    window.setTimeout(() => {
      ui.notice.textContent = message;
    }, 50);
  }

  function legend(container, keys) {
    container.replaceChildren(
      ...keys.map(([className, text]) => {
        const key = el("span", "key");
        key.append(el("span", `swatch ${className}`), document.createTextNode(text));
        return key;
      }),
    );
  }

  function emptyChart(text) {
    return el("p", "empty-chart", text);
  }

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && problem.detail) || t("error.http", { status: String(status) }));
      this.status = status;
    }
  }

  async function api(path, raw) {
    const response = await fetch(apiBase + path, {
      headers: {
        Accept: "application/json",
        "Accept-Language": i18n.locale,
        Authorization: `Bearer ${raw || token()}`,
      },
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
      return t("session.moderator");
    }
  }

  // ---- the label charts: score histogram, then precision and recall by threshold -----------

  const LABEL_W = 360;
  const LABEL_M = { left: 34, right: 10 };

  function scoreX(score) {
    return LABEL_M.left + score * (LABEL_W - LABEL_M.left - LABEL_M.right);
  }

  function scoreAxis(root, bottom) {
    for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
      svgEl("text", { x: scoreX(tick), y: bottom + 13, "text-anchor": "middle", text: i18n.number(tick) }, root);
    }
  }

  function markLine(root, x, top, bottom, className) {
    svgEl("line", { class: className, x1: x, x2: x, y1: top, y2: bottom }, root);
  }

  function histogramChart(item, target) {
    const height = 150;
    const top = 30;
    const bottom = height - 18;
    const name = named("label", item.label);
    const approved = item.histogram.approved;
    const rejected = item.histogram.rejected;
    const bins = item.histogram.bins;
    const root = chart(
      LABEL_W,
      height,
      t("chart.histogram", { name, count: item.labelled, rejected: rejected.reduce((a, b) => a + b, 0) }),
    );
    const max = niceMax(Math.max(...approved, ...rejected));
    const y = (value) => bottom - (value / max) * (bottom - top);
    for (const tick of [0, max / 2, max]) {
      svgEl("line", { class: "grid", x1: LABEL_M.left, x2: LABEL_W - LABEL_M.right, y1: y(tick), y2: y(tick) }, root);
      svgEl("text", { x: LABEL_M.left - 6, y: y(tick) + 4, "text-anchor": "end", text: count(tick) }, root);
    }
    const binWidth = (scoreX(1) - scoreX(0)) / bins;
    const barWidth = Math.max(1, (binWidth - 2) / 2);
    for (let bin = 0; bin < bins; bin += 1) {
      const x = scoreX(bin / bins) + 1;
      const range = `${fixed(bin / bins)}–${fixed((bin + 1) / bins)}`;
      if (approved[bin] > 0) {
        tip(
          svgEl("rect", { class: "bar-approved", x, y: y(approved[bin]), width: barWidth, height: bottom - y(approved[bin]) }, root),
          t("chart.bin_approved", { range, count: approved[bin] }),
        );
      }
      if (rejected[bin] > 0) {
        tip(
          svgEl("rect", { class: "bar-rejected", x: x + barWidth, y: y(rejected[bin]), width: barWidth, height: bottom - y(rejected[bin]) }, root),
          t("chart.bin_rejected", { range, count: rejected[bin] }),
        );
      }
    }
    svgEl("line", { class: "baseline", x1: LABEL_M.left, x2: LABEL_W - LABEL_M.right, y1: bottom, y2: bottom }, root);
    scoreAxis(root, bottom);
    thresholdMarks(root, item, target, 0, bottom, true);
    return root;
  }

  function thresholdMarks(root, item, target, top, bottom, withLabels) {
    const marks = [];
    if (typeof item.threshold === "number") {
      marks.push(["threshold", item.threshold, t("labels.holds_from", { threshold: fixed(item.threshold) })]);
    }
    if (typeof item.suggested_threshold === "number" && item.suggested_threshold !== item.threshold) {
      marks.push([
        "suggested",
        item.suggested_threshold,
        t("labels.suggested_from", { target: percent(target), threshold: fixed(item.suggested_threshold) }),
      ]);
    }
    marks.forEach(([className, value, text], index) => {
      const x = scoreX(value);
      const labelY = top + 10 + 13 * index;
      markLine(root, x, withLabels ? labelY + 3 : top, bottom, className);
      if (withLabels) {
        const anchor = value > 0.6 ? "end" : "start";
        svgEl(
          "text",
          { class: `${className}-label`, x: x + (anchor === "end" ? -4 : 4), y: labelY, "text-anchor": anchor, text },
          root,
        );
      }
    });
  }

  function precisionChart(item, target) {
    const height = 104;
    const top = 16;
    const bottom = height - 18;
    const root = chart(LABEL_W, height, t("chart.precision", { name: named("label", item.label) }));
    const y = (value) => bottom - value * (bottom - top);
    for (const tick of [0, 0.5, 1]) {
      svgEl("line", { class: "grid", x1: LABEL_M.left, x2: LABEL_W - LABEL_M.right, y1: y(tick), y2: y(tick) }, root);
      svgEl("text", { x: LABEL_M.left - 6, y: y(tick) + 4, "text-anchor": "end", text: percent(tick) }, root);
    }
    svgEl("line", { class: "target", x1: LABEL_M.left, x2: LABEL_W - LABEL_M.right, y1: y(target), y2: y(target) }, root);
    for (const [key, className] of [["precision", "line-precision"], ["recall", "line-recall"]]) {
      let path = "";
      let pen = "M";
      for (const point of item.points) {
        if (typeof point[key] !== "number") {
          pen = "M";
          continue;
        }
        path += `${pen}${round(scoreX(point.threshold))},${round(y(point[key]))} `;
        pen = "L";
      }
      if (path) svgEl("path", { class: className, d: path.trim() }, root);
    }
    thresholdMarks(root, item, target, top, bottom, false);
    svgEl("line", { class: "baseline", x1: LABEL_M.left, x2: LABEL_W - LABEL_M.right, y1: bottom, y2: bottom }, root);
    scoreAxis(root, bottom);
    return root;
  }

  function labelCard(item, target) {
    const card = el("article", "label-card");
    card.dataset.label = item.label;
    card.append(el("h3", null, named("label", item.label)));
    const facts = el("p", "label-facts");
    const parts = [];
    parts.push(
      typeof item.threshold === "number" ? t("labels.holds_at", { threshold: fixed(item.threshold) }) : t("labels.no_hold"),
    );
    if (item.at_threshold) {
      parts.push(
        t("labels.precision", { rate: percent(item.at_threshold.precision) }),
        t("labels.recall", { rate: percent(item.at_threshold.recall) }),
      );
    }
    parts.push(t("count.judged", { count: item.labelled }));
    facts.textContent = parts.join(" · ");
    if (typeof item.suggested_threshold === "number") {
      facts.append(document.createTextNode(" · "));
      facts.append(
        el("strong", null, t("labels.suggested", { target: percent(target), threshold: fixed(item.suggested_threshold) })),
      );
    } else if (item.labelled) {
      facts.append(document.createTextNode(` · ${t("labels.unreachable", { target: percent(target) })}`));
    }
    card.append(facts);
    if (!item.labelled) {
      card.append(emptyChart(t("labels.none_judged")));
      return card;
    }
    card.append(histogramChart(item, target), precisionChart(item, target));
    return card;
  }

  // ---- the rule chart: overturned and upheld shares of each rule's reviewed holds ----------

  function ruleLabel(rule) {
    return typeof rule.threshold === "number" ? `${rule.rule} ≥ ${fixed(rule.threshold)}` : rule.rule;
  }

  function ruleChart(rules) {
    if (!rules.length) return emptyChart(t("rules.empty"));
    const ordered = rules.slice().sort((a, b) => {
      const ra = a.reviewed ? a.overturn_rate : -1;
      const rb = b.reviewed ? b.overturn_rate : -1;
      return rb - ra || b.holds - a.holds || a.rule.localeCompare(b.rule);
    });
    const width = 1000;
    const row = 30;
    const top = 6;
    const left = 250;
    const barEnd = 700;
    const height = top + row * ordered.length + 20;
    const root = chart(width, height, t("chart.rules"));
    const x = (share) => left + share * (barEnd - left);
    for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
      svgEl("line", { class: "grid", x1: x(tick), x2: x(tick), y1: top, y2: height - 18 }, root);
      svgEl("text", { x: x(tick), y: height - 5, "text-anchor": "middle", text: percent(tick) }, root);
    }
    ordered.forEach((rule, index) => {
      const y = top + index * row;
      const group = svgEl("g", { class: "rule-row" }, root);
      group.dataset.rule = rule.rule;
      svgEl("text", { class: "rule-name", x: left - 10, y: y + row / 2 + 4, "text-anchor": "end", text: ruleLabel(rule) }, group);
      svgEl("rect", { class: "bar-track", x: x(0), y: y + 6, width: x(1) - x(0), height: row - 12, rx: 3 }, group);
      let note;
      if (rule.reviewed) {
        const overturned = rule.overturned / rule.reviewed;
        if (rule.overturned) {
          tip(
            svgEl("rect", { class: "bar-overturned", x: x(0), y: y + 6, width: x(overturned) - x(0), height: row - 12 }, group),
            t("rules.overturned_tip", { rule: ruleLabel(rule), overturned: rule.overturned, reviewed: rule.reviewed }),
          );
        }
        if (rule.upheld) {
          tip(
            svgEl("rect", { class: "bar-upheld", x: x(overturned), y: y + 6, width: x(1) - x(overturned), height: row - 12 }, group),
            t("rules.upheld_tip", { rule: ruleLabel(rule), upheld: rule.upheld, reviewed: rule.reviewed }),
          );
        }
        note = t("rules.note", { rate: percent(rule.overturn_rate), reviewed: rule.reviewed, count: rule.holds });
      } else {
        note = t("rules.none_reviewed", { count: rule.holds });
      }
      svgEl("text", { class: "value-label", x: barEnd + 12, y: y + row / 2 + 4, text: note }, group);
    });
    return root;
  }

  // ---- hold volume and queue age over time -----------------------------------------------

  const TIME_W = 560;
  const TIME_M = { left: 40, right: 12, top: 10, bottom: 22 };

  function timeLabel(iso, bucket) {
    if (bucket === "hour") return i18n.date(iso, { hour: "2-digit", minute: "2-digit", timeZone: "UTC" });
    return i18n.date(iso, { day: "numeric", month: "short", timeZone: "UTC" });
  }

  function timeFrame(root, series, bucket, height, max, format) {
    const bottom = height - TIME_M.bottom;
    const band = (TIME_W - TIME_M.left - TIME_M.right) / Math.max(series.length, 1);
    const x = (index) => TIME_M.left + band * index;
    const y = (value) => bottom - (value / max) * (bottom - TIME_M.top);
    for (const tick of [0, max / 2, max]) {
      svgEl("line", { class: "grid", x1: TIME_M.left, x2: TIME_W - TIME_M.right, y1: y(tick), y2: y(tick) }, root);
      svgEl("text", { x: TIME_M.left - 6, y: y(tick) + 4, "text-anchor": "end", text: format(tick) }, root);
    }
    const every = Math.max(1, Math.ceil(series.length / 7));
    series.forEach((point, index) => {
      if (index % every === 0) {
        svgEl("text", { x: x(index) + band / 2, y: height - 6, "text-anchor": "middle", text: timeLabel(point.start, bucket) }, root);
      }
    });
    return { x, y, band, bottom };
  }

  function volumeChart(volume) {
    const series = volume.series;
    if (!series.length) return emptyChart(t("volume.empty"));
    const height = 200;
    const max = niceMax(Math.max(...series.map((p) => Math.max(p.holds, p.reviewed))));
    const total = series.reduce((sum, p) => sum + p.holds, 0);
    const root = chart(TIME_W, height, t(`volume.chart.${volume.bucket}`, { total }));
    const frame = timeFrame(root, series, volume.bucket, height, max, (tick) => count(tick));
    const width = Math.max(1, frame.band * 0.7);
    series.forEach((point, index) => {
      if (point.holds > 0) {
        tip(
          svgEl("rect", { class: "bar-holds", x: frame.x(index) + (frame.band - width) / 2, y: frame.y(point.holds), width, height: frame.bottom - frame.y(point.holds) }, root),
          t("volume.tip", { time: timeLabel(point.start, volume.bucket), count: point.holds, reviewed: point.reviewed }),
        );
      }
    });
    const path = series.map((point, index) => `${index ? "L" : "M"}${round(frame.x(index) + frame.band / 2)},${round(frame.y(point.reviewed))}`);
    svgEl("path", { class: "line-reviewed", d: path.join(" ") }, root);
    svgEl("line", { class: "baseline", x1: TIME_M.left, x2: TIME_W - TIME_M.right, y1: frame.bottom, y2: frame.bottom }, root);
    return root;
  }

  function ageChart(volume) {
    const series = volume.series;
    if (!series.length) return emptyChart(t("volume.empty"));
    const height = 200;
    const ages = series.map((point) => (point.oldest_age_seconds || 0) / 3600);
    const max = niceMax(Math.max(...ages));
    const root = chart(TIME_W, height, t(`age.chart.${volume.bucket}`));
    const frame = timeFrame(root, series, volume.bucket, height, max, (tick) =>
      i18n.number(tick, { style: "unit", unit: "hour", unitDisplay: "narrow", maximumFractionDigits: 1 }),
    );
    const points = ages.map((age, index) => [frame.x(index) + frame.band / 2, frame.y(age)]);
    const line = points.map(([px, py], index) => `${index ? "L" : "M"}${round(px)},${round(py)}`).join(" ");
    const first = points[0];
    const last = points[points.length - 1];
    svgEl("path", { class: "area-age", d: `${line} L${round(last[0])},${round(frame.bottom)} L${round(first[0])},${round(frame.bottom)} Z` }, root);
    svgEl("path", { class: "line-age", d: line }, root);
    series.forEach((point, index) => {
      tip(
        svgEl("circle", { class: "dot-age", cx: points[index][0], cy: points[index][1], r: 2.5 }, root),
        t("age.tip", {
          time: timeLabel(point.end, volume.bucket),
          count: point.backlog,
          age: hours(point.oldest_age_seconds),
        }),
      );
    });
    svgEl("line", { class: "baseline", x1: TIME_M.left, x2: TIME_W - TIME_M.right, y1: frame.bottom, y2: frame.bottom }, root);
    return root;
  }

  // ---- summary tiles and the shadow policy -----------------------------------------------

  function tile(name, value, note) {
    const box = el("div", "tile");
    box.append(el("span", "tile-name", name), el("span", "tile-value", value), el("span", "tile-note", note));
    return box;
  }

  function tiles(report) {
    const series = report.volume.series;
    const holds = series.reduce((sum, p) => sum + p.holds, 0);
    const reviewed = series.reduce((sum, p) => sum + p.reviewed, 0);
    const now = series[series.length - 1];
    const sources = Object.entries(report.labels.by_source).map(([source, n]) =>
      i18n.has(`tile.source.${source}`) ? t(`tile.source.${source}`, { count: n }) : `${count(n)} ${source}`,
    );
    const judged = { rejected: report.labels.rejected, approved: report.labels.approved };
    const found = [
      tile(
        t("tile.judged"),
        count(report.labels.total),
        sources.length
          ? t("tile.judged_sources", { ...judged, sources: new Intl.ListFormat(i18n.locale, { type: "unit" }).format(sources) })
          : t("tile.judged_note", judged),
      ),
      tile(t("tile.holds"), count(holds), t("tile.holds_note", { reviewed })),
      tile(
        t("tile.waiting"),
        count(now ? now.backlog : 0),
        now && now.backlog ? t("tile.waiting_note", { age: hours(now.oldest_age_seconds) }) : t("tile.queue_empty"),
      ),
      tile(
        t("tile.sample"),
        `${count(report.sample.labelled)} / ${count(report.sample.sampled)}`,
        [
          report.sample.not_fine ? t("tile.not_fine", { count: report.sample.not_fine }) : null,
          report.sample.rate > 0 ? t("tile.sampling", { rate: percent(report.sample.rate) }) : t("tile.sampling_off"),
        ]
          .filter(Boolean)
          .join(" · "),
      ),
    ];
    if (report.shadow) {
      found.push(
        tile(t("tile.shadow"), percent(report.shadow.agreement.rate), t("tile.shadow_note", { count: report.shadow.compared })),
      );
    }
    return found;
  }

  function shadowBody(shadow) {
    const table = el("table", "confusion");
    table.createCaption().textContent = t("shadow.caption");
    const head = table.createTHead().insertRow();
    head.append(el("td"), el("th", null, t("shadow.approves")), el("th", null, t("shadow.holds")));
    const body = table.createTBody();
    for (const real of ["approve", "hold"]) {
      const row = body.insertRow();
      row.append(el("th", null, real === "approve" ? t("shadow.real_approves") : t("shadow.real_holds")));
      for (const other of ["approve", "hold"]) {
        row.append(el("td", real === other ? "agree" : null, count(shadow.confusion[real][other])));
      }
    }
    const facts = el("ul", "shadow-facts");
    const outcomes = shadow.outcomes;
    facts.append(
      el("li", null, t("shadow.agreement", { rate: percent(shadow.agreement.rate), count: shadow.compared })),
      el("li", null, t("shadow.misses", outcomes.misses)),
      el("li", null, t("shadow.extra_work", outcomes.extra_work)),
    );
    for (const row of shadow.by_rule.slice(0, 5)) {
      if (row.approve_to_hold || row.hold_to_approve) {
        facts.append(
          el("li", null, t("shadow.by_rule", { rule: row.rule, more: row.approve_to_hold, fewer: row.hold_to_approve })),
        );
      }
    }
    return [table, facts];
  }

  // ---- report precision ------------------------------------------------------------------

  function precisionTable(caption, heading, rows, name, key) {
    const table = el("table", "confusion precision-table");
    table.dataset.table = key;
    table.createCaption().textContent = caption;
    const head = table.createTHead().insertRow();
    const columns = ["reports.reports", "reports.upheld", "reports.dismissed", "reports.open", "reports.precision"];
    for (const title of [heading, ...columns.map((key) => t(key))]) {
      const cell = el("th", null, title);
      cell.scope = "col";
      head.append(cell);
    }
    const body = table.createTBody();
    for (const row of rows) {
      const line = body.insertRow();
      line.dataset.key = row[key];
      const first = el("th", "name", name(row[key]));
      first.scope = "row";
      line.append(
        first,
        el("td", null, count(row.reports)),
        el("td", null, count(row.upheld)),
        el("td", null, count(row.dismissed)),
        el("td", null, count(row.open)),
        el("td", "precision", percent(row.precision)),
      );
    }
    return table;
  }

  function reportsBody(reports) {
    if (!reports.total.reports) return [emptyChart(t("reports.empty"))];
    const facts = el(
      "p",
      "reports-total",
      t("reports.total", {
        reports: t("count.reports", { count: reports.total.reports }),
        readers: t("count.readers", { count: reports.reporters }),
        upheld: reports.total.upheld,
        dismissed: reports.total.dismissed,
        open: reports.total.open,
        precision: percent(reports.total.precision),
      }),
    );
    return [
      facts,
      precisionTable(t("reports.by_reason"), t("reports.reason"), reports.by_reason, (reason) => named("reason", reason), "reason"),
      precisionTable(
        t("reports.top_reporters", { count: reports.by_reporter.length }),
        t("reports.reporter"),
        reports.by_reporter,
        (reporter) => reporter,
        "reporter_id",
      ),
    ];
  }

  // ---- loading and signing in ------------------------------------------------------------

  function render(report) {
    const target = report.target_precision;
    ui.asOf.textContent = t("report.as_of", {
      since: i18n.date(report.since, { dateStyle: "long", timeStyle: "long", timeZone: "UTC" }),
      policy: report.policy_version.slice(0, 19),
    });
    ui.tiles.replaceChildren(...tiles(report));
    legend(ui.labelsLegend, [
      ["approved", t("legend.approved")],
      ["rejected", t("legend.rejected")],
      ["line threshold", t("legend.threshold")],
      ["line dashed suggested", t("legend.suggested", { target: percent(target) })],
      ["line precision", t("legend.precision")],
      ["line dashed recall", t("legend.recall")],
    ]);
    ui.labelCharts.replaceChildren(
      ...(report.model_labels.length
        ? report.model_labels.map((item) => labelCard(item, target))
        : [emptyChart(t("labels.empty"))]),
    );
    legend(ui.rulesLegend, [
      ["overturned", t("legend.overturned")],
      ["upheld", t("legend.upheld")],
    ]);
    ui.ruleChart.replaceChildren(ruleChart(report.rules));
    legend(ui.volumeLegend, [
      ["holds", t(`legend.holds.${report.volume.bucket}`)],
      ["line reviewed", t("legend.reviewed")],
    ]);
    ui.volumeChart.replaceChildren(volumeChart(report.volume));
    ui.ageChart.replaceChildren(ageChart(report.volume));
    ui.reportsBody.replaceChildren(...reportsBody(report.reports));
    ui.shadowPanel.hidden = !report.shadow;
    ui.shadowBody.replaceChildren(...(report.shadow ? shadowBody(report.shadow) : []));
  }

  function query() {
    const params = new URLSearchParams({ since: ui.since.value });
    const target = Number(ui.target.value);
    if (target > 0 && target <= 1) params.set("target_precision", String(target));
    return params.toString();
  }

  async function load() {
    const mine = ++generation;
    ui.report.setAttribute("aria-busy", "true");
    try {
      const report = await api(`/v1/moderation/insights?${query()}`);
      if (mine !== generation) return;
      render(report);
      ui.report.dataset.loaded = "true";
    } catch (error) {
      if (mine !== generation) return;
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        signOut(error.status === 401 ? t("session.ended") : t("session.not_moderator"));
        return;
      }
      say(t("error.load", { error: error.message }));
    } finally {
      if (mine === generation) ui.report.removeAttribute("aria-busy");
    }
  }

  function showReport(raw) {
    ui.signin.hidden = true;
    ui.report.hidden = false;
    ui.controls.hidden = false;
    ui.session.hidden = false;
    ui.whoami.textContent = whoFromToken(raw);
    return load();
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    generation += 1;
    ui.report.hidden = true;
    ui.controls.hidden = true;
    ui.session.hidden = true;
    ui.signin.hidden = false;
    ui.signinError.textContent = message || "";
    ui.token.value = "";
    ui.token.focus();
  }

  ui.signinForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const raw = ui.token.value.trim();
    if (!raw) {
      ui.signinError.textContent = t("signin.empty");
      return;
    }
    ui.signinError.textContent = "";
    try {
      await api("/v1/moderation/insights?since=1h", raw);
    } catch (error) {
      const status = error instanceof ApiError ? error.status : 0;
      ui.signinError.textContent =
        status === 401
          ? t("signin.rejected")
          : status === 403
            ? t("signin.not_moderator")
            : t("signin.unreachable", { error: error.message });
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, raw);
    ui.token.value = "";
    showReport(raw);
  });

  ui.signOut.addEventListener("click", () => signOut());
  i18n.bindSwitch(ui.localeSwitch);
  ui.controls.addEventListener("submit", (event) => event.preventDefault());
  ui.since.addEventListener("change", load);
  ui.target.addEventListener("change", load);

  const saved = token();
  if (saved) showReport(saved);
  else ui.token.focus();
})();

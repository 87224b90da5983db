// The moderators' page: the token, calls to the API with it, and what a failed call tells
// the moderator.
"use strict";

(() => {
  const moderation = (window.moderation = window.moderation || {});
  const { say, t } = moderation;

  const TOKEN_KEY = "moderation.token";
  const apiBase = document.body.dataset.apiBase || "";

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && problem.detail) || `HTTP ${status}`);
      this.status = status;
      this.code = problem && problem.code;
      this.commentStatus = problem && problem.comment_status;
    }
  }

  async function api(path, options = {}) {
    const headers = {
      Accept: "application/json",
      // Reasons' messages come in the page's language.
      "Accept-Language": window.i18n.locale,
      Authorization: `Bearer ${token()}`,
    };
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
      return t("session.someone");
    }
  }

  function handleFailure(error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      moderation.signOut(
        error.status === 401
          ? t("session.ended")
          : t("session.not_moderator"),
      );
      return;
    }
    say(error instanceof ApiError ? error.message : t("error.retrying"));
  }

  Object.assign(moderation, { TOKEN_KEY, token, ApiError, api, whoFromToken, handleFailure });
})();

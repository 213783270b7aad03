// Siteward end-user app: progressive enhancement only; every page works without it.
(function () {
  "use strict";

  // Installable and usable offline: the service worker keeps the app's shell.
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/app/sw.js", { scope: "/app" }).catch(function () {});
  }

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.getAttribute("data-confirm"))) e.preventDefault();
    });
  });

  // Live updates: invitations, authorization requests and alarms arrive as
  // server-sent events; the page then re-renders its live part (the element with
  // data-live), asked for with the X-Partial header.
  var live = document.querySelector("[data-live]");
  if (!live || !window.EventSource) return;
  var source = new EventSource("/api/v1/events");
  var pending = null;
  var refresh = function () {
    if (pending) return;
    pending = setTimeout(function () {
      pending = null;
      fetch(window.location.href, { headers: { "X-Partial": live.id }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html === null) return;
          live.innerHTML = html;
          document.dispatchEvent(new CustomEvent("siteward:updated", { detail: live.id }));
        })
        .catch(function () {});
    }, 250);
  };
  ["handover_changed", "alarm", "health_changed", "lagged"].forEach(function (kind) {
    source.addEventListener(kind, refresh);
  });
})();

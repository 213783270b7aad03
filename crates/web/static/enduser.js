// Siteward end-user app: progressive enhancement only; every page works without it.
(function () {
  "use strict";

  // Installable and usable offline: the service worker keeps the app's shell.
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/app/sw.js", { scope: "/app" }).catch(function () {});
  }

  // Forms that ask first (decline, cancel, remove). Listened for on the document,
  // so that forms a live update brings in ask too.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) return;
    if (!window.confirm(form.getAttribute("data-confirm"))) e.preventDefault();
  });

  // Live updates: invitations, authorization requests and alarms arrive as
  // server-sent events; the page then re-renders its live part (the element with
  // data-live), asked for with the X-Partial header. The root element's
  // data-stream tells whether the stream is open (for people's styles and tests).
  var live = document.querySelector("[data-live]");
  if (!live || !window.EventSource) return;
  var root = document.documentElement;

  // What the person chose in the live part's forms and has not sent yet (a shorter
  // duration, an unticked box) survives a re-render.
  var key = function (el) { return (el.form ? el.form.getAttribute("action") : "") + "|" + el.name; };
  var choices = function () {
    var kept = {};
    live.querySelectorAll("select[name], input[name]").forEach(function (el) {
      if (el.tagName === "SELECT") {
        var changed = Array.prototype.some.call(el.options, function (o) { return o.selected !== o.defaultSelected; });
        if (changed) kept[key(el)] = { value: el.value };
      } else if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked !== el.defaultChecked) kept[key(el) + "|" + el.value] = { checked: el.checked };
      } else if (el.type !== "hidden" && el.value !== el.defaultValue) {
        kept[key(el)] = { value: el.value };
      }
    });
    return kept;
  };
  var restore = function (kept) {
    live.querySelectorAll("select[name], input[name]").forEach(function (el) {
      var isBox = el.type === "checkbox" || el.type === "radio";
      var k = isBox ? kept[key(el) + "|" + el.value] : kept[key(el)];
      if (!k) return;
      if (isBox) {
        el.checked = k.checked;
      } else if (el.tagName !== "SELECT" ||
          Array.prototype.some.call(el.options, function (o) { return o.value === k.value; })) {
        el.value = k.value;
      }
    });
  };

  // One re-render at a time, so an older answer never overwrites a newer one; an
  // event that comes meanwhile asks for one more.
  var timer = null;
  var busy = false;
  var again = false;
  var refresh = function () {
    if (busy) { again = true; return; }
    if (timer) return;
    timer = setTimeout(function () {
      timer = null;
      busy = true;
      fetch(window.location.href, { headers: { "X-Partial": live.id }, credentials: "same-origin", cache: "no-store" })
        .then(function (r) {
          // Signed out meanwhile (another tab, an expired session): the answer is
          // the sign-in page, which belongs on its own, not inside this one.
          if (r.redirected) { window.location.reload(); return null; }
          return r.ok ? r.text() : null;
        })
        .then(function (html) {
          if (html === null) return;
          var kept = choices();
          live.innerHTML = html;
          restore(kept);
          document.dispatchEvent(new CustomEvent("siteward:updated", { detail: live.id }));
        })
        .catch(function () {})
        .then(function () {
          busy = false;
          if (again) { again = false; refresh(); }
        });
    }, 250);
  };

  var source = new EventSource("/api/v1/events");
  var opened = false;
  source.addEventListener("open", function () {
    root.setAttribute("data-stream", "open");
    // Back after a break: what happened meanwhile was not heard, so look again.
    if (opened) refresh();
    opened = true;
  });
  source.addEventListener("error", function () {
    root.setAttribute("data-stream", source.readyState === EventSource.CLOSED ? "closed" : "connecting");
  });
  ["handover_changed", "alarm", "health_changed", "lagged"].forEach(function (kind) {
    source.addEventListener(kind, refresh);
  });
})();

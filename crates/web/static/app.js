// Siteward portal: progressive enhancement only; every page works without it.
(function () {
  "use strict";
  document.querySelectorAll("[data-toggle]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var target = document.getElementById(btn.getAttribute("data-toggle"));
      if (!target) return;
      var open = target.classList.toggle("open");
      btn.setAttribute("aria-expanded", open ? "true" : "false");
    });
  });
  // Delegated, so parts re-rendered live keep working.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest ? e.target.closest("[data-copy]") : null;
    if (!btn) return;
    var src = document.getElementById(btn.getAttribute("data-copy"));
    if (!src || !navigator.clipboard) return;
    navigator.clipboard.writeText(src.textContent.trim()).then(function () {
      var label = btn.textContent;
      btn.textContent = "Copied";
      setTimeout(function () { btn.textContent = label; }, 1500);
    });
  });
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.hasAttribute && form.hasAttribute("data-confirm") && !window.confirm(form.getAttribute("data-confirm"))) {
      e.preventDefault();
    }
  });

  // Live updates: the Health page and device pages re-render their live part when
  // a device's status changes; inspections show their progress. A live part may
  // name the events it follows (data-live-on) and its site (data-site); such a part
  // is not re-rendered under the person's typing: a notice offers a reload instead.
  var live = document.querySelector("[data-live]");
  var progress = document.getElementById("inspection-progress");
  if ((live || progress) && window.EventSource) {
    var source = new EventSource("/api/v1/events");
    var pending = null;
    var kinds = (live && live.getAttribute("data-live-on") || "health_changed").split(" ");
    var site = live && live.getAttribute("data-site");
    var guarded = live && live.hasAttribute("data-live-on");
    var dirty = false;
    var stale = document.getElementById("live-stale");
    if (guarded) {
      live.addEventListener("input", function () { dirty = true; });
      live.addEventListener("change", function () { dirty = true; });
    }
    var refresh = function () {
      if (!live || pending) return;
      if (dirty) { if (stale) stale.hidden = false; return; }
      pending = setTimeout(function () {
        pending = null;
        fetch(window.location.href, { headers: { "X-Partial": live.id }, credentials: "same-origin" })
          .then(function (r) {
            // Gone (removed from the list, moved to another company): say so.
            if (r.status === 404 && stale) stale.hidden = false;
            return r.ok ? r.text() : null;
          })
          .then(function (html) { if (html !== null && !dirty) { live.innerHTML = html; } });
      }, 300);
    };
    kinds.forEach(function (kind) {
      source.addEventListener(kind, function (e) {
        if (site) {
          var d = null;
          try { d = JSON.parse(e.data); } catch (err) { return; }
          if (d.site_id !== site) return;
        }
        refresh();
      });
    });
    source.addEventListener("lagged", refresh);
    // Tells (tests, styles) whether live news is arriving.
    source.addEventListener("open", function () { if (live) live.setAttribute("data-live-state", "open"); });
    source.addEventListener("error", function () { if (live) live.setAttribute("data-live-state", "closed"); });
    source.addEventListener("inspection_progress", function (e) {
      if (!progress) return;
      var p = JSON.parse(e.data);
      var wanted = progress.getAttribute("data-inspection");
      if (wanted && wanted !== p.id) return;
      progress.hidden = false;
      var bar = progress.querySelector("progress");
      bar.max = Math.max(p.total, 1);
      bar.value = p.done;
      var text = p.state === "done" ? "Inspected " + p.done + " of " + p.total : "Inspecting " + p.done + " of " + p.total;
      if (p.failures > 0) text += " · " + p.failures + " not answering";
      progress.querySelector(".progress-text").textContent = text;
      if (p.state === "done") refresh();
    });
  }
})();

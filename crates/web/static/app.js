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
  document.querySelectorAll("[data-copy]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var src = document.getElementById(btn.getAttribute("data-copy"));
      if (!src || !navigator.clipboard) return;
      navigator.clipboard.writeText(src.textContent.trim()).then(function () {
        var label = btn.textContent;
        btn.textContent = "Copied";
        setTimeout(function () { btn.textContent = label; }, 1500);
      });
    });
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.getAttribute("data-confirm"))) e.preventDefault();
    });
  });

  // Live updates: the Health page and device pages re-render their live part when
  // a device's status changes; inspections show their progress.
  var live = document.querySelector("[data-live]");
  var progress = document.getElementById("inspection-progress");
  if ((live || progress) && window.EventSource) {
    var source = new EventSource("/api/v1/events");
    var pending = null;
    var refresh = function () {
      if (!live || pending) return;
      pending = setTimeout(function () {
        pending = null;
        fetch(window.location.href, { headers: { "X-Partial": live.id }, credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) { if (html !== null) { live.innerHTML = html; } });
      }, 300);
    };
    source.addEventListener("health_changed", refresh);
    source.addEventListener("lagged", refresh);
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

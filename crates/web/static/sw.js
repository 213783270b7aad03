// Siteward end-user app's service worker: keeps the app's shell (style, script,
// icons and an offline page) so the app installs and still opens without a
// network. Pages and the API always come from the network; nothing private is
// cached.
"use strict";

var CACHE = "siteward-app-1";
var SHELL = [
  "/static/enduser.css",
  "/static/enduser.js",
  "/static/app-icon.svg",
  "/app/icon-192.png",
  "/app/icon-512.png",
  "/app/offline"
];

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE)
      .then(function (cache) { return cache.addAll(SHELL); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys()
      .then(function (keys) {
        return Promise.all(keys.filter(function (k) { return k !== CACHE; })
          .map(function (k) { return caches.delete(k); }));
      })
      .then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.indexOf("/api/") === 0) return;
  if (request.mode === "navigate") {
    // Signed-in pages are never cached; offline, the offline page stands in.
    event.respondWith(fetch(request).catch(function () { return caches.match("/app/offline"); }));
    return;
  }
  if (SHELL.indexOf(url.pathname) >= 0) {
    // Network first, so a new release shows at once; the cached copy offline.
    event.respondWith(
      fetch(request)
        .then(function (response) {
          if (response.ok) {
            var copy = response.clone();
            caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
          }
          return response;
        })
        .catch(function () { return caches.match(request); })
    );
  }
});

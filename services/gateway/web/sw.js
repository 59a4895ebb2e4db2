// The service worker. The gateway serves it at /sw.js preceded by
// `const VERSION` (a digest of the app's files) and `const SHELL` (the URLs
// to precache): see services/gateway/resources/web.py.
//
// - install: precache this version's app shell (bypassing the HTTP cache);
// - activate: delete every other version's cache;
// - navigations: network first, the cached shell when the network fails;
// - the shell's files: from the cache;
// - /v1/ (API data and the live stream) and everything else: never touched,
//   always the network.
const CACHE = `dealerflow-shell-${VERSION}`;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/v1/")) return;
  if (event.request.mode === "navigate") {
    event.respondWith(fetch(event.request).catch(() => caches.match("/", { cacheName: CACHE })));
  } else if (SHELL.includes(url.pathname)) {
    event.respondWith(
      caches.match(url.pathname, { cacheName: CACHE }).then((cached) => cached || fetch(event.request)),
    );
  }
});

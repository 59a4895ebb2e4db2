// The service worker. The gateway serves it at /sw.js preceded by
// `const VERSION` (a digest of the app's files) and `const SHELL` (the URLs
// to precache): see services/gateway/resources/web.py.
//
// - install: precache this version's app shell (bypassing the HTTP cache);
// - activate: delete every other version's cache;
// - navigations: network first, the cached shell when the network fails;
// - the shell's files: from the cache;
// - /v1/ (API data and the live stream) and everything else: never touched,
//   always the network;
// - push: a Web Push message (JSON: title, body, link, kind; see
//   services/notifications/channels/webpush.py) shown as a notification;
//   tapping it opens its link's path in this app (only ours can push to
//   this browser, and the server's idea of its own address may differ from
//   the one the app was installed from), in an open window when there is one.
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

/** The app's URL a pushed message opens: its link's path on this origin, else the inbox. */
function target(link) {
  try {
    const url = new URL(link || "/inbox", self.location.origin);
    return new URL(url.pathname + url.search + url.hash, self.location.origin).href;
  } catch {
    return new URL("/inbox", self.location.origin).href;
  }
}

self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch {
    message = { body: event.data.text() };
  }
  event.waitUntil(self.registration.showNotification(message.title || "Dealerflow", {
    body: message.body || "",
    icon: "/static/icons/icon-192.png",
    data: { url: target(message.link) },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = event.notification.data?.url || target(null);
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const open = windows.find((client) => new URL(client.url).origin === self.location.origin);
    if (open) {
      await open.focus();
      return open.navigate(url).catch(() => self.clients.openWindow(url));
    }
    return self.clients.openWindow(url);
  })());
});

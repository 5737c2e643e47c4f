/* Live worklist: polls the change marker every 15 s while the page is visible and swaps in the fresh list
   (the page again with ?fragment=1) when a claim changed, or every 5 minutes so the times left stay current.
   Keeps the keyboard focus on the same claim link and announces the update to screen readers. */
(function () {
  "use strict";
  var script = document.getElementById("worklist-script");
  var live = document.getElementById("worklist-live");
  if (!script || !live || !window.fetch) { return; }
  var versionUrl = script.getAttribute("data-version-url");
  var updated = script.getAttribute("data-msg-updated") || "";
  var status = document.getElementById("worklist-status");
  var EVERY = 15000, STALE = 300000;
  var last = Date.now(), busy = false;

  function fragmentUrl() {
    var url = new URL(window.location.href);
    url.searchParams.set("fragment", "1");
    return url.toString();
  }

  function swap(html) {
    var box = document.createElement("div");
    box.innerHTML = html;
    var fresh = box.querySelector("#worklist-live");
    if (!fresh) { return; }
    var active = document.activeElement;
    var href = active && live.contains(active) ? active.getAttribute("href") : null;
    live.parentNode.replaceChild(fresh, live);
    live = fresh;
    if (href) {
      var links = live.querySelectorAll("a[href]");
      for (var i = 0; i < links.length; i++) {
        if (links[i].getAttribute("href") === href) { links[i].focus(); break; }
      }
    }
    if (status) { status.textContent = ""; status.textContent = updated; }
  }

  function refresh() {
    last = Date.now();
    return fetch(fragmentUrl(), {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html) { swap(html); } });
  }

  function poll() {
    if (busy || document.hidden) { return Promise.resolve(); }
    busy = true;
    return fetch(versionUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (answer) {
        if (answer && (answer.version !== live.getAttribute("data-version") || Date.now() - last > STALE)) {
          return refresh();
        }
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ })
      .then(function () { busy = false; });
  }

  window.setInterval(poll, EVERY);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { poll(); } });
  window.serialtraceWorklist = {poll: poll};
}());

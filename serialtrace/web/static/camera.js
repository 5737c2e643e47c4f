// Camera station: send ~5 frames a second to the server, which confirms a code across frames; a confirmed
// code is submitted like a typed scan. The camera restarts after the page reloads until it is stopped.
(function () {
  "use strict";
  var box = document.getElementById("camera");
  var form = document.getElementById("scan-form");
  var field = document.getElementById("code");
  if (!box || !form || !field) { return; }
  var startButton = document.getElementById("camera-button");
  var stopButton = document.getElementById("camera-stop");
  var message = document.getElementById("camera-message");
  var video = document.getElementById("camera-video");
  var canvas = document.getElementById("camera-canvas");
  var station = document.getElementById("station");
  var source = document.getElementById("source");
  var tokenMeta = document.querySelector('meta[name="csrf-token"]');
  var FRAME_MS = 200;
  var MAX_WIDTH = 1280;
  var KEY = "serialtrace-camera";
  var stream = null;
  var timer = null;
  var busy = false;
  var posted = 0;
  var answered = 0;

  function say(key, extra) {
    message.textContent = (box.getAttribute("data-msg-" + key) || key) + (extra ? " " + extra : "");
    message.setAttribute("data-state", key);
    message.hidden = false;
  }

  function remember(on) {
    try {
      if (on) { sessionStorage.setItem(KEY, "on"); } else { sessionStorage.removeItem(KEY); }
    } catch (err) { /* storage off: the camera just does not restart by itself */ }
  }

  function stop() {
    if (timer) { clearInterval(timer); timer = null; }
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    video.hidden = true;
    stopButton.hidden = true;
    startButton.hidden = false;
  }

  function reason(err) {
    var name = err && err.name;
    if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") { return "denied"; }
    if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") { return "no-camera"; }
    if (name === "NotReadableError" || name === "TrackStartError") { return "busy"; }
    return "failed";
  }

  function start() {
    // Browsers only offer the camera to secure pages (https, or http on localhost).
    if (!window.isSecureContext) { say("insecure"); remember(false); return; }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { say("unsupported"); remember(false); return; }
    navigator.mediaDevices.getUserMedia({ audio: false, video: { facingMode: { ideal: "environment" },
                                                                 width: { ideal: 1280 }, height: { ideal: 720 } } })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        startButton.hidden = true;
        stopButton.hidden = false;
        remember(true);
        say("looking");
        return video.play();
      })
      .then(function () { timer = setInterval(grab, FRAME_MS); })
      .catch(function (err) {
        stop();
        remember(false);
        say(reason(err));
      });
  }

  function grab() {
    // One frame in flight at a time: a slow server gets fewer frames instead of a queue of stale ones.
    if (busy || !stream || !video.videoWidth) { return; }
    var scale = Math.min(1, MAX_WIDTH / video.videoWidth);
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    busy = true;
    canvas.toBlob(function (blob) {
      if (!blob) { busy = false; return; }
      send(blob);
    }, "image/jpeg", 0.85);
  }

  function send(blob) {
    var body = new FormData();
    body.append("frame", blob, "frame.jpg");
    body.append("station", station ? station.value : "");
    posted += 1;
    box.setAttribute("data-frames-posted", String(posted));
    fetch(box.getAttribute("data-frame-url"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": tokenMeta ? tokenMeta.content : "", "Accept": "application/json" }
    })
      .then(function (resp) {
        return resp.json().then(function (data) { return { ok: resp.ok, data: data }; });
      })
      .then(function (r) {
        answered += 1;
        box.setAttribute("data-frames-answered", String(answered));
        if (!r.ok) { say("upload-failed", r.data && r.data.message); return; }
        handle(r.data);
      })
      .catch(function () { say("upload-failed"); })
      .then(function () { busy = false; });
  }

  function handle(data) {
    if (data.confirmed && data.confirmed.length) {
      var code = data.confirmed[0].code;
      if (timer) { clearInterval(timer); timer = null; }
      field.value = code;
      if (source) { source.value = "camera"; }
      form.submit();
      return;
    }
    var codes = data.codes || [];
    if (!codes.length) { say("looking"); return; }
    say(codes.some(function (c) { return c.action === "rescan"; }) ? "hold" : "looking");
  }

  startButton.addEventListener("click", start);
  stopButton.addEventListener("click", function () { stop(); remember(false); message.hidden = true; field.focus(); });
  var restart = false;
  try { restart = sessionStorage.getItem(KEY) === "on"; } catch (err) { restart = false; }
  if (restart) { start(); }
})();

// The scan field in every page's header. A keyboard-wedge scanner types into whatever has focus, so keys typed
// while no text field has focus are caught into this field; Enter asks the server what the code names and opens
// it, or turns the field red or amber with the reason and a tone, keeping the text to correct. Also the tones
// (one per signal colour) the station page and a scan's flashed signal play.
(function () {
  "use strict";
  // green: one short high beep; amber: two middle beeps; red: one long low buzz.
  var TONES = {
    green: [[880, 0.12, "sine"]],
    amber: [[620, 0.13, "triangle"], [620, 0.13, "triangle"]],
    red: [[200, 0.5, "square"]]
  };
  var PENDING = "serialtrace-pending-scan";
  var audio = null;

  function tone(signal) {
    var pattern = TONES[signal];
    if (!pattern) { return; }
    // Which tone was asked for, so a look at the page (or a test) can tell what was heard.
    document.documentElement.setAttribute("data-tone", signal);
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var at = audio.currentTime;
      pattern.forEach(function (step) {
        var osc = audio.createOscillator();
        var gain = audio.createGain();
        osc.type = step[2];
        osc.frequency.value = step[0];
        gain.gain.value = 0.2;
        osc.connect(gain);
        gain.connect(audio.destination);
        osc.start(at);
        osc.stop(at + step[1]);
        at += step[1] + 0.08;
      });
    } catch (err) { /* no audio device: the colour and the words still tell */ }
  }
  window.serialtraceTone = tone;

  function colourOf(el) {
    return ["green", "amber", "red"].filter(function (c) { return el.classList.contains(c); })[0];
  }

  // A scan that opened this page brought its signal along as a flashed message.
  var flashed = document.querySelector(".flash.signal");
  if (flashed) { tone(colourOf(flashed)); }

  var form = document.getElementById("scanfield");
  var field = document.getElementById("scanfield-code");
  var box = document.getElementById("scanfield-result");
  if (!form || !field || !box) { return; }
  var TEXT_TYPES = ["", "text", "search", "email", "password", "number", "tel", "url", "date", "datetime-local",
                    "month", "time", "week"];

  function typesText(el) {
    if (!el || el === document.body) { return false; }
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") { return true; }
    return el.tagName === "INPUT" && TEXT_TYPES.indexOf((el.getAttribute("type") || "").toLowerCase()) !== -1;
  }

  function activates(el) {
    if (!el || el === document.body) { return false; }
    return ["BUTTON", "A", "SUMMARY", "LABEL", "INPUT"].indexOf(el.tagName) !== -1;
  }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) { return; }
    if (e.key.length !== 1 || typesText(document.activeElement)) { return; }
    // Space presses a focused button, checkbox, link or menu toggle: a keyboard user needs it, a scan never
    // starts with it.
    if (e.key === " " && activates(document.activeElement)) { return; }
    // The first character of a scan typed into the page: a new scan starts in the field (its old text goes).
    e.preventDefault();
    field.value = e.key;
    field.focus();
  });

  function say(kind, parts) {
    form.classList.remove("green", "amber", "red");
    if (kind) { form.classList.add(kind); }
    form.setAttribute("data-signal", kind || "");
    box.textContent = "";
    parts.forEach(function (part) { if (part) { box.appendChild(part); } });
    box.hidden = parts.length === 0;
  }

  function text(tag, words, id) {
    if (!words) { return null; }
    var el = document.createElement(tag);
    el.textContent = words;
    if (id) { el.id = id; }
    return el;
  }

  function choices(list) {
    if (!list || !list.length) { return null; }
    var ul = document.createElement("ul");
    ul.id = "scanfield-choices";
    list.forEach(function (choice) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = choice.url;
      a.textContent = choice.label;
      a.setAttribute("data-kind", choice.kind);
      li.appendChild(a);
      ul.appendChild(li);
    });
    return ul;
  }

  function show(answer, code) {
    // Red says why in its message already (not found, unreadable); amber and green add what was found out.
    var reasons = answer.signal === "red" ? "" : (answer.reasons || []).join("; ");
    if (answer.url) {
      // The page it opens shows the signal (flashed by the server) and plays the tone.
      say(answer.signal, [text("p", answer.message, "scanfield-message")]);
      window.location.assign(answer.url);
      return;
    }
    say(answer.signal || "red", [text("p", answer.message, "scanfield-message"),
                                 text("p", reasons, "scanfield-reasons"),
                                 text("p", answer.previous, "scanfield-previous"),
                                 choices(answer.choices)]);
    tone(answer.signal || "red");
    // Nothing else on the page changes: the text stays, selected, so a fresh scan replaces it or a key corrects it.
    field.value = code;
    field.focus();
    field.select();
  }

  function renewToken(token) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { meta.setAttribute("content", token); }
    Array.prototype.forEach.call(document.querySelectorAll('input[name="csrf_token"]'), function (input) {
      input.value = token;
    });
  }

  function send(code, retried) {
    var body = new FormData(form);
    body.set("code", code);
    fetch(form.getAttribute("data-scan-url"), { method: "POST", body: body, credentials: "same-origin",
                                                headers: { "Accept": "application/json" } })
      .then(function (resp) {
        if (resp.redirected && resp.url.indexOf(form.getAttribute("data-login-url")) !== -1) {
          // The login ended: the scan waits in this tab and is sent again once the person has logged in.
          try { sessionStorage.setItem(PENDING, code); } catch (err) { /* storage off: the scan is typed again */ }
          window.location.assign(resp.url.split("?")[0] + "?next=" +
                                 encodeURIComponent(window.location.pathname + window.location.search));
          return null;
        }
        return resp.json().then(function (data) { return { status: resp.status, data: data }; });
      })
      .then(function (reply) {
        if (!reply) { return; }
        var data = reply.data || {};
        if (reply.status === 400 && data.error === "csrf" && data.details && data.details.csrf_token && !retried) {
          // The page outlived its form token (a new login elsewhere): the same scan again, once, with a fresh one.
          renewToken(data.details.csrf_token);
          send(code, true);
          return;
        }
        show(data.signal ? data : { signal: "red", message: data.message || form.getAttribute("data-msg-failed") },
             code);
      })
      .catch(function () { show({ signal: "red", message: form.getAttribute("data-msg-failed") }, code); });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!field.value.trim()) { return; }
    send(field.value, false);
  });

  field.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { field.value = ""; say("", []); }
  });

  var pending = null;
  try { pending = sessionStorage.getItem(PENDING); sessionStorage.removeItem(PENDING); } catch (err) { pending = null; }
  if (pending) {
    field.value = pending;
    send(pending, false);
  }
})();

// Scanning station: keep the scan field focused and make the result loud (colour is in CSS, sound here).
(function () {
  "use strict";
  var field = document.getElementById("code");
  if (!field) { return; }
  function refocus() { if (document.activeElement !== field) { field.focus(); } }
  field.focus();
  field.select();
  // A wedge scanner types into whatever has focus, so clicks elsewhere must not steal it for long.
  document.addEventListener("click", function (e) {
    if (!e.target.closest("a, button, input, select, textarea")) { setTimeout(refocus, 0); }
  });
  window.addEventListener("focus", refocus);
  var box = document.getElementById("scan-result");
  if (!box) { return; }
  var tones = { unit: [880, 0.12], batch: [880, 0.12], claim: [880, 0.12], choose: [660, 0.25], mismatch: [300, 0.4],
                not_found: [220, 0.45], invalid: [180, 0.5], ambiguous: [300, 0.4] };
  var tone = tones[box.getAttribute("data-result")] || [440, 0.2];
  try {
    var ctx = new (window.AudioContext || window.webkitAudioContext)();
    var osc = ctx.createOscillator();
    var gain = ctx.createGain();
    osc.frequency.value = tone[0];
    osc.type = tone[0] < 400 ? "square" : "sine";
    gain.gain.value = 0.2;
    osc.connect(gain);
    gain.connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + tone[1]);
  } catch (err) { /* no audio device: the colour still tells */ }
})();

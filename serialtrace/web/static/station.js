// Scanning station: keep the scan field focused and make the result loud (colour is in CSS, the tone of the
// signal comes from scanfield.js); a scan whose form token had expired is sent again once with the fresh one.
(function () {
  "use strict";
  var field = document.getElementById("code");
  var form = document.getElementById("scan-form");
  if (!field || !form) { return; }
  if (form.getAttribute("data-renew") === "1" && field.value) {
    // The server kept the scan and gave this page a new token: send it again, once (the form says it is a retry).
    form.submit();
    return;
  }
  function refocus() { if (document.activeElement !== field) { field.focus(); } }
  field.focus();
  field.select();
  // A wedge scanner types into whatever has focus, so clicks elsewhere must not steal it for long.
  document.addEventListener("click", function (e) {
    if (!e.target.closest("a, button, input, select, textarea")) { setTimeout(refocus, 0); }
  });
  window.addEventListener("focus", refocus);
  // F2 registers a complaint about the unit shown (Alt+R is the link's access key as well).
  var complaint = document.getElementById("complaint-link");
  document.addEventListener("keydown", function (e) {
    if (complaint && e.key === "F2") {
      e.preventDefault();
      window.location.assign(complaint.href);
    }
  });
  var box = document.getElementById("scan-result");
  if (box && window.serialtraceTone) { window.serialtraceTone(box.getAttribute("data-signal")); }
})();

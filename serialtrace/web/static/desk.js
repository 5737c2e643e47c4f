// The desk's complaint and claim pages. The field marked data-keeps-focus is the page's scan field (the replacement
// or the returned unit): it has focus on load, gets it back after a click elsewhere, and a wedge scan typed while
// a button or link has focus (after Tab) lands in it, as on the station. The complaint form registers with
// Ctrl+Enter and goes back to the station with Esc.
(function () {
  "use strict";
  var TEXT_TYPES = ["", "text", "search", "email", "password", "number", "tel", "url"];

  function typesText(el) {
    if (!el || el === document.body) { return false; }
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") { return true; }
    return el.tagName === "INPUT" && TEXT_TYPES.indexOf((el.getAttribute("type") || "").toLowerCase()) !== -1;
  }

  var complaint = document.getElementById("complaint-form");
  var back = document.getElementById("back-to-station");
  document.addEventListener("keydown", function (e) {
    if (complaint && e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      complaint.requestSubmit();
    } else if (complaint && back && e.key === "Escape" && !(document.activeElement.tagName === "TEXTAREA" &&
                                                            document.activeElement.value)) {
      window.location.assign(back.href);
    }
  });

  var field = document.querySelector("[data-keeps-focus]");
  if (!field) { return; }
  function refocus() { if (document.activeElement !== field) { field.focus(); } }
  field.focus();
  field.select();
  document.addEventListener("click", function (e) {
    if (!e.target.closest("a, button, input, select, textarea, label")) { setTimeout(refocus, 0); }
  });
  window.addEventListener("focus", refocus);
  // The header's scan field catches stray keys on pages that have it; this page's field does so here.
  if (document.getElementById("scanfield")) { return; }
  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) { return; }
    if (e.key.length !== 1 || typesText(document.activeElement)) { return; }
    // Space presses the focused button or ticks the checkbox; a scan never starts with it.
    if (e.key === " " && document.activeElement && document.activeElement !== document.body) { return; }
    e.preventDefault();
    field.value = e.key;
    field.focus();
  });
})();

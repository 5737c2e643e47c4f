// The test bench form: a measured value shows at once whether it is within the step's limits (the server decides
// the result; this is only a hint), and Enter in a field moves to the next field instead of sending the form half
// filled. The Submit button sends it (Enter or Space on the button, or a click).
(function () {
  "use strict";
  var form = document.getElementById("test-form");
  if (!form) { return; }

  function hint(input) {
    var out = document.getElementById(input.id + "-hint");
    if (!out) { return; }
    var text = input.value.trim().replace(",", ".");
    var value = Number(text);
    if (text === "" || isNaN(value)) {
      out.textContent = "";
      out.className = "step-hint";
      return;
    }
    var low = input.getAttribute("data-low");
    var high = input.getAttribute("data-high");
    var ok = (low === null || value >= Number(low)) && (high === null || value <= Number(high));
    out.textContent = ok ? form.getAttribute("data-msg-pass") : form.getAttribute("data-msg-fail");
    out.className = "step-hint " + (ok ? "pass" : "fail");
  }

  Array.prototype.forEach.call(form.querySelectorAll("input[data-measure]"), function (input) {
    input.addEventListener("input", function () { hint(input); });
    hint(input);
  });

  form.addEventListener("keydown", function (event) {
    var el = event.target;
    // Only fields: Enter keeps its meaning on buttons, links and in the notes.
    if (event.key !== "Enter" || (el.tagName !== "INPUT" && el.tagName !== "SELECT")) { return; }
    event.preventDefault();
    var fields = Array.prototype.filter.call(form.elements, function (f) {
      return !f.disabled && f.type !== "hidden" && f.tabIndex >= 0 &&
        !(f.type === "radio" && !f.checked && form.querySelector("input[name='" + f.name + "']:checked"));
    });
    var next = fields[fields.indexOf(el) + 1];
    if (next) { next.focus(); }
  });
}());

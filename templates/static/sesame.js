// Sesame: progressive enhancement only. Every page works without this file;
// with it, "Copy" buttons appear beside the recovery codes and the TOTP key.
(function () {
  "use strict";
  if (!navigator.clipboard) { return; }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) { return; }
    var status = document.getElementById(button.getAttribute("aria-describedby") || "");
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = source.getAttribute("data-value");
      if (text === null) {
        text = Array.prototype.map.call(source.querySelectorAll("code"), function (c) { return c.textContent; }).join("\n");
      }
      navigator.clipboard.writeText(text).then(function () {
        if (status) { status.textContent = button.getAttribute("data-done"); }
      });
    });
  });
})();

// Small enhancements; every page works without them.
(function () {
  "use strict";

  // Tabs switch panels in place (the links still work without scripting).
  document.addEventListener("click", function (event) {
    var tab = event.target.closest("[role=tab][data-tab]");
    if (!tab) return;
    event.preventDefault();
    document.querySelectorAll("[role=tab][data-tab]").forEach(function (other) {
      var selected = other === tab;
      other.setAttribute("aria-selected", selected ? "true" : "false");
      document.getElementById(other.getAttribute("aria-controls")).hidden = !selected;
    });
    history.replaceState(null, "", "?mode=" + tab.dataset.tab);
  });

  // The compression slider shows its value as it moves.
  document.addEventListener("input", function (event) {
    if (event.target.name !== "output_compression") return;
    var output = event.target.closest(".field").querySelector("output");
    if (output) output.textContent = event.target.value;
  });
})();

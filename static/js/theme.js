// The theme switch: system (default), light or dark, remembered in this browser. Loaded in <head>,
// before the page paints, so a chosen theme never flashes the other one first.
(function () {
  "use strict";
  var KEY = "studio-theme";
  var ORDER = ["system", "light", "dark"];
  var LABELS = { system: "Theme: follows the system", light: "Theme: light", dark: "Theme: dark" };

  function stored() {
    try { return localStorage.getItem(KEY) || "system"; } catch (e) { return "system"; }
  }

  function apply(theme) {
    if (theme === "light" || theme === "dark") document.documentElement.setAttribute("data-theme", theme);
    else document.documentElement.removeAttribute("data-theme");
    var button = document.getElementById("theme-switch");
    if (button) {
      button.setAttribute("aria-label", LABELS[theme] + ". Change theme");
      button.dataset.theme = theme;
      button.querySelector("[data-theme-label]").textContent = theme.charAt(0).toUpperCase() + theme.slice(1);
    }
  }

  apply(stored());
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("theme-switch");
    if (!button) return;
    button.hidden = false;
    apply(stored());
    button.addEventListener("click", function () {
      var next = ORDER[(ORDER.indexOf(stored()) + 1) % ORDER.length];
      try { localStorage.setItem(KEY, next); } catch (e) { /* private mode: this page only */ }
      apply(next);
    });
  });
})();

// Small enhancements; every page works without them (no inline scripts: CSP script-src 'self').
(function () {
  "use strict";

  var isMac = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

  // ---- Tabs: switch panels in place (the links still work without scripting) -----------
  function tabs() { return Array.prototype.slice.call(document.querySelectorAll("[role=tab][data-tab]")); }

  function selectTab(tab, focus) {
    tabs().forEach(function (other) {
      var selected = other === tab;
      other.setAttribute("aria-selected", selected ? "true" : "false");
      other.tabIndex = selected ? 0 : -1;
      var panel = document.getElementById(other.getAttribute("aria-controls"));
      if (panel) panel.hidden = !selected;
    });
    if (focus) tab.focus();
    history.replaceState(null, "", "?mode=" + tab.dataset.tab);
  }

  document.addEventListener("click", function (event) {
    var tab = event.target.closest("[role=tab][data-tab]");
    if (!tab || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    selectTab(tab, false);
  });

  document.addEventListener("keydown", function (event) {
    var tab = event.target.closest && event.target.closest("[role=tab][data-tab]");
    if (!tab) return;
    var all = tabs(), index = all.indexOf(tab), next = null;
    if (event.key === "ArrowRight") next = all[(index + 1) % all.length];
    else if (event.key === "ArrowLeft") next = all[(index - 1 + all.length) % all.length];
    else if (event.key === "Home") next = all[0];
    else if (event.key === "End") next = all[all.length - 1];
    if (next) { event.preventDefault(); selectTab(next, true); }
  });

  // ---- Ctrl/Cmd+Enter submits the form you are typing in ---------------------------------
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    var form = event.target.closest && event.target.closest("form.composer-form");
    if (!form) return;
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button && !button.disabled) form.requestSubmit(button);
  });

  // ---- The compression slider shows its value as it moves -------------------------------
  document.addEventListener("input", function (event) {
    if (event.target.name !== "output_compression") return;
    var output = document.getElementById(event.target.id + "-value");
    if (output) output.textContent = event.target.value;
  });

  // ---- Previews of the files chosen for an edit -----------------------------------------
  function showPreviews(input) {
    var list = document.getElementById(input.dataset.preview);
    if (!list) return;
    list.querySelectorAll("img").forEach(function (img) { URL.revokeObjectURL(img.src); });
    list.textContent = "";
    Array.prototype.forEach.call(input.files || [], function (file, index) {
      var item = document.createElement("li");
      var img = document.createElement("img");
      img.src = URL.createObjectURL(file);
      img.alt = "Chosen file " + (index + 1) + ": " + file.name;
      var name = document.createElement("span");
      name.textContent = file.name;
      name.title = file.name;
      item.append(img, name);
      list.append(item);
    });
    list.hidden = !list.children.length;
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("input[type=file][data-preview]")) showPreviews(event.target);
  });

  // An htmx submit swaps the form for the server's copy; a browser cannot refill file inputs
  // from HTML, so carry the chosen files over to keep them (as the other values are kept).
  var carriedFiles = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var form = event.detail.target;
    if (!form || form.tagName !== "FORM") return;
    carriedFiles = {};
    form.querySelectorAll("input[type=file]").forEach(function (input) {
      if (input.files && input.files.length) carriedFiles[input.name] = input.files;
    });
  });

  // ---- After htmx puts new content in ---------------------------------------------------
  var lastStatus = {};
  var announcer = null;
  var initialized = false;

  function announce(text) {
    announcer = announcer || document.getElementById("announcer");
    if (!announcer) return;
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  function noteJobs(root) {
    var cards = root.matches && root.matches(".job") ? [root] : root.querySelectorAll ? root.querySelectorAll(".job") : [];
    Array.prototype.forEach.call(cards, function (card) {
      var before = lastStatus[card.id], now = card.dataset.status;
      if (!before && initialized && window.matchMedia("(max-width: 960px)").matches) {
        // A job just submitted: on a narrow screen the list is below the form, so bring it into view.
        card.scrollIntoView({ behavior: "smooth", block: "nearest" });
      }
      if (before && before !== now && (now === "succeeded" || now === "failed")) {
        var prompt = card.querySelector(".job-prompt");
        announce((now === "succeeded" ? "Job succeeded: " : "Job failed: ") + (prompt ? prompt.textContent : ""));
      }
      lastStatus[card.id] = now;
    });
  }

  function showShortcuts(root) {
    root.querySelectorAll(".shortcut").forEach(function (kbd) {
      kbd.textContent = isMac ? "⌘ ↵" : "Ctrl ↵";
      kbd.hidden = false;
    });
  }

  document.addEventListener("htmx:load", function (event) {
    var root = event.detail.elt;
    noteJobs(root);
    if (!root.querySelectorAll) return;
    showShortcuts(root);
    if (root.matches("form.composer-form")) {
      if (carriedFiles) {
        root.querySelectorAll("input[type=file]").forEach(function (input) {
          if (carriedFiles[input.name]) { input.files = carriedFiles[input.name]; showPreviews(input); }
        });
        carriedFiles = null;
      }
      // After a refused submit, take the keyboard to the first field that needs fixing.
      var invalid = root.querySelector("[aria-invalid=true]");
      if (invalid) invalid.focus();
    }
  });

  function init() {
    var selected = tabs().filter(function (tab) { return tab.getAttribute("aria-selected") === "true"; })[0];
    tabs().forEach(function (tab) { tab.tabIndex = tab === selected ? 0 : -1; });
    showShortcuts(document);
    noteJobs(document);
    initialized = true;
    document.querySelectorAll("input[type=file][data-preview]").forEach(function (input) {
      if (input.files && input.files.length) showPreviews(input);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

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

  // ---- The main menu on narrow screens (base.html): a disclosure button over the nav ------------
  function menuButton() { return document.querySelector(".menu-button"); }
  function setMenu(open, focusButton) {
    var button = menuButton();
    if (!button) return;
    button.setAttribute("aria-expanded", String(open));
    if (!open && focusButton) button.focus();
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".menu-button");
    if (button) { setMenu(button.getAttribute("aria-expanded") !== "true", false); return; }
    var open = document.querySelector(".menu-button[aria-expanded=true]");
    if (open && !event.target.closest("#main-nav")) setMenu(false, false);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector(".menu-button[aria-expanded=true]");
    if (open) { event.preventDefault(); setMenu(false, true); }
  });

  // ---- Copy buttons: [data-copy] names the field whose text to copy (share and invitation links) ----
  function copySelected(field) {
    field.focus(); field.select();  // the old way, for an insecure context or a refused clipboard
    return document.execCommand("copy") ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }
  function copyText(field) {
    if (!navigator.clipboard || !window.isSecureContext) return copySelected(field);
    return navigator.clipboard.writeText(field.value).catch(function () { return copySelected(field); });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.getElementById(button.dataset.copy);
    if (!field) return;
    copyText(field).then(function () {
      button.classList.add("is-copied");
      announce("Link copied.");
      var label = button.firstChild;
      if (label && label.nodeType === 3) {
        label.textContent = "Copied";
        setTimeout(function () { label.textContent = "Copy"; button.classList.remove("is-copied"); }, 2000);
      }
    }, function () {
      field.focus(); field.select();
      announce("Copying was refused: the link is selected, press Ctrl+C to copy it.");
    });
  });

  // ---- Size feedback: a broken custom size outlines its fields and offers the nearest valid one ----
  function markSize(feedback) {
    var options = feedback.closest(".options");
    if (!options) return;
    var invalid = !!feedback.querySelector("[data-size-invalid]");
    options.querySelectorAll(".custom-size input").forEach(function (input) {
      if (invalid) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    });
  }
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.classList && target.classList.contains("size-feedback")) markSize(target);
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-nearest-size]");
    if (!button) return;
    var options = button.closest(".options");
    if (!options) return;
    [["width", button.dataset.width], ["height", button.dataset.height]].forEach(function (pair) {
      var input = options.querySelector(".custom-size input[name=" + pair[0] + "]");
      if (input) { input.value = pair[1]; input.dispatchEvent(new Event("input", { bubbles: true })); }
    });
    var width = options.querySelector(".custom-size input[name=width]");
    if (width) { width.dispatchEvent(new Event("change", { bubbles: true })); width.focus(); }
    announce("Size set to " + button.dataset.width + " by " + button.dataset.height + ".");
  });

  // ---- Cancel says so at once: the card's next refresh shows the outcome ----------------------
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!form.matches || !form.matches("form[data-cancel-form]")) return;
    var button = form.querySelector("button[type=submit]");
    if (button) { button.textContent = "Cancelling…"; button.disabled = true; }
    var card = form.closest(".job");
    if (card) card.setAttribute("aria-busy", "true");
    announce("Cancelling…");
  });

  // ---- Gallery filters put only what is in use in the URL (no "q=&quality=&…") ---------------
  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (!form.matches || !form.matches("form.filters")) return;
    var data = event.detail.formData;
    if (!data) return;
    var names = [];
    data.forEach(function (value, name) { if (names.indexOf(name) < 0) names.push(name); });
    names.forEach(function (name) {
      if (data.getAll(name).every(function (value) { return value === ""; })) data.delete(name);
    });
  });
  document.addEventListener("submit", function (event) {
    // Without htmx (or before it is ready) the browser sends the form: empty fields stay out of it too.
    var form = event.target;
    if (!form.matches || !form.matches("form.filters") || event.defaultPrevented) return;
    form.querySelectorAll("input, select").forEach(function (field) {
      if (field.name && field.value === "" && !field.disabled) {
        field.disabled = true;
        setTimeout(function () { field.disabled = false; }, 0);
      }
    });
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

  // A submit refused for going too fast (429) comes back as the form with the reason: show it.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr && event.detail.xhr.status === 429) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
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

  // ---- Image page: ← and → step through the current view -------------------------------
  // Never while typing, choosing in a list or moving between tabs: there the arrows are the field's.
  function isTyping(target) {
    if (!target || !target.closest) return false;
    return target.isContentEditable ||
      !!target.closest("input, textarea, select, [contenteditable], [role=tab], [role=slider], [role=listbox], [role=menu], [role=grid]");
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (isTyping(event.target)) return;
    var link = document.querySelector(".stepper a[rel=" + (event.key === "ArrowLeft" ? "prev" : "next") + "]");
    if (!link) return;
    event.preventDefault();
    window.location.assign(link.href);
  });

  // ---- Gallery filters ---------------------------------------------------------------------
  // The search field asks as you type (htmx, after a pause). Its "change" on leaving the field would
  // ask once more and swap the grid just as a tile's checkbox is clicked, dropping that selection.
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("form.filters input[name=q]")) event.stopPropagation();
  }, true);

  // ---- Gallery: choose images for a bulk action -----------------------------------------
  // The grid is one form (see gallery/index.html): checkboxes name images, the bar's buttons the
  // action. Here: shift-click ranges, select all / clear, the count, and sending only the fields the
  // pressed button needs. Without this file the checkboxes and buttons post all the same.
  var lastChecked = null;  // the checkbox clicked last: a shift-click selects from it to the one clicked
  var shiftHeld = false;   // whether the last pointer press or key press had Shift (label clicks lose it)

  function bulkForms(root) {
    if (root.matches && root.matches("form.bulk-form")) return [root];
    return root.querySelectorAll ? Array.prototype.slice.call(root.querySelectorAll("form.bulk-form")) : [];
  }

  function tileChecks(form) { return Array.prototype.slice.call(form.querySelectorAll("input.tile-check")); }

  function selectedCount(form) { return tileChecks(form).filter(function (box) { return box.checked; }).length; }

  function updateSelection(form, say) {
    var boxes = tileChecks(form), count = selectedCount(form);
    var text = count ? count + " selected" : "None selected";
    form.querySelectorAll("[data-bulk-count]").forEach(function (label) { label.textContent = text; });
    form.querySelectorAll("[data-needs-selection]").forEach(function (button) { button.disabled = !count; });
    var scope = form.closest("#grid") || document;
    scope.querySelectorAll(".select-controls [data-select=none]").forEach(function (button) { button.disabled = !count; });
    scope.querySelectorAll(".select-controls [data-select=all]").forEach(function (button) {
      button.setAttribute("aria-pressed", boxes.length && count === boxes.length ? "true" : "false");
    });
    form.classList.toggle("has-selection", count > 0);
    // Compare takes exactly two: the checked pair opens on the compare page.
    form.querySelectorAll("[data-compare-selected]").forEach(function (button) { button.disabled = count !== 2; });
    if (!count) form.querySelectorAll(".bulk-trash[open]").forEach(function (details) { details.open = false; });
    if (say) announce(text);
  }

  // Gallery tiles in justified rows: each tile is given its picture's aspect (from the img's size).
  function justify(root) {
    var grids = root.matches && root.matches(".grid") ? [root] : Array.prototype.slice.call(root.querySelectorAll(".grid"));
    grids.forEach(function (grid) {
      grid.querySelectorAll(".tile").forEach(function (tile) {
        var img = tile.querySelector(".tile-frame img");
        var w = img && Number(img.getAttribute("width")), h = img && Number(img.getAttribute("height"));
        if (w > 0 && h > 0) tile.style.setProperty("--ar", String(Math.max(1 / 3, Math.min(3, w / h))));
      });
      grid.classList.add("is-justified");
    });
  }

  // The tile's star: favourite in place (the view answers htmx with a fragment we do not need).
  document.addEventListener("click", function (event) {
    var star = event.target.closest && event.target.closest("[data-tile-favourite]");
    if (!star) return;
    event.preventDefault();
    var form = star.form, token = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    var body = new FormData();
    body.append("favourite", star.value);
    fetch(star.getAttribute("formaction"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.value : "", "HX-Request": "true" },
    }).then(function (response) {
      if (!response.ok) throw new Error(response.status);
      var now = star.value === "1";
      star.value = now ? "0" : "1";
      star.setAttribute("aria-pressed", String(now));
      var badge = star.closest(".tile").querySelector(".tile-badge");
      if (badge) badge.hidden = !now;
      announce(now ? "Added to your favourites." : "Removed from your favourites.");
    }).catch(function () { announce("Could not change the favourite; try again."); });
  });

  function showScripted(root) {
    if (!root.querySelectorAll) return;
    justify(root);
    root.querySelectorAll("[data-js-only]").forEach(function (element) { element.hidden = false; });
    bulkForms(root).forEach(function (form) { updateSelection(form, false); });
  }

  function controlledForm(control) {
    var id = control.getAttribute("aria-controls");
    return (id && document.getElementById(id)) || control.closest("form.bulk-form");
  }

  function selectAll(form, checked) {
    tileChecks(form).forEach(function (box) { box.checked = checked; });
    lastChecked = null;
    updateSelection(form, true);
    if (!checked) {
      // The bar and its button are gone: keep the keyboard near where it was.
      var again = (form.closest("#grid") || document).querySelector(".select-controls [data-select=all]");
      if (again && (!document.activeElement || document.activeElement === document.body ||
                    document.activeElement.closest(".bulk-bar, .select-controls"))) again.focus();
    }
  }

  document.addEventListener("pointerdown", function (event) {
    shiftHeld = event.shiftKey;
    // Shift-pressing a checkbox would also stretch the page's text selection up to it.
    if (event.shiftKey && event.target.closest && event.target.closest(".tile-select")) event.preventDefault();
  }, true);

  document.addEventListener("mousedown", function (event) {
    if (event.shiftKey && event.target.closest && event.target.closest(".tile-select")) event.preventDefault();
  }, true);

  document.addEventListener("click", function (event) {
    if (!event.target.closest) return;
    var box = event.target.closest("input.tile-check");
    if (box) {
      var form = box.closest("form.bulk-form");
      if (!form) return;
      var boxes = tileChecks(form);
      var from = lastChecked ? boxes.indexOf(lastChecked) : -1, to = boxes.indexOf(box);
      if ((event.shiftKey || shiftHeld) && from >= 0 && from !== to) {
        boxes.slice(Math.min(from, to), Math.max(from, to) + 1).forEach(function (other) { other.checked = box.checked; });
      }
      lastChecked = box;
      updateSelection(form, true);
      return;
    }
    var compare = event.target.closest("[data-compare-selected]");
    if (compare) {
      var checked = tileChecks(compare.closest("form.bulk-form")).filter(function (b) { return b.checked; });
      if (checked.length === 2) {
        window.location.assign(compare.dataset.url + "?a=" + encodeURIComponent(checked[0].value) +
                               "&b=" + encodeURIComponent(checked[1].value));
      }
      return;
    }
    var control = event.target.closest("[data-select]");
    if (control) {
      var target = controlledForm(control);
      if (target) selectAll(target, control.dataset.select === "all");
      return;
    }
    // A click elsewhere folds the trash confirmation away.
    document.querySelectorAll(".bulk-trash[open]").forEach(function (details) {
      if (!details.contains(event.target)) details.open = false;
    });
  });

  document.addEventListener("keydown", function (event) {
    shiftHeld = event.shiftKey;
    var target = event.target;
    if (event.key === "Enter" && target.matches && target.matches("input.tile-check")) {
      event.preventDefault();  // Enter on a checkbox would press the form's default button
      return;
    }
    if (event.key !== "Escape" || event.defaultPrevented) return;
    var open = document.querySelector(".bulk-trash[open]");
    if (open) {
      open.open = false;
      open.querySelector("summary").focus();
      return;
    }
    if (isTyping(target) && !(target.matches && target.matches("input.tile-check"))) return;
    var form = document.querySelector("form.bulk-form.has-selection");
    if (form) selectAll(form, false);
  });

  // The bar offers two collections: the one to add to (its select) and, in a collection's view, the
  // one to remove from. Both are named "collection": send only the one the pressed button needs.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form.bulk-form")) return;
    var action = event.submitter && event.submitter.name === "action" ? event.submitter.value : "tag";
    if (!selectedCount(form)) {
      event.preventDefault();
      announce("Select some images first.");
      return;
    }
    var tags = form.querySelector("input[name=tags]");
    if (action === "tag" && tags && !tags.value.trim()) {
      event.preventDefault();
      tags.setCustomValidity("Type one or more tags, separated by commas.");
      tags.reportValidity();
      tags.focus();
      return;
    }
    form.dataset.action = action;
    if (action === "zip") announce("Preparing the zip of " + selectedCount(form) + " images…");
  });

  document.addEventListener("input", function (event) {
    if (event.target.name === "tags" && event.target.setCustomValidity) event.target.setCustomValidity("");
  });

  document.addEventListener("formdata", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form.bulk-form")) return;
    var source = form.querySelector("[data-collection-of=\"" + form.dataset.action + "\"]");
    event.formData.delete("collection");
    if (source) event.formData.set("collection", source.value);
  }, true);

  // Tag suggestions (htmx fills the <datalist>): ask for the tag being typed, the last after a
  // comma, and offer each as the whole field's value, so that choosing one keeps the tags before it.
  function typedTags(input) {
    var parts = input.value.split(",");
    return { current: parts.pop().trim(), before: parts.map(function (part) { return part.trim(); }).filter(Boolean) };
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var input = event.detail.elt;
    if (!input.matches || !input.matches("input[data-tag-suggest]")) return;
    event.detail.parameters.q = typedTags(input).current;
    delete event.detail.parameters[input.name];
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var list = event.detail.target;
    if (!list || list.tagName !== "DATALIST") return;
    var input = document.querySelector("input[list=\"" + list.id + "\"]");
    if (!input) return;
    var typed = typedTags(input), prefix = typed.before.length ? typed.before.join(", ") + ", " : "";
    list.querySelectorAll("option").forEach(function (option) {
      if (typed.before.indexOf(option.value) >= 0) option.remove();
      else option.value = prefix + option.value;
    });
  });

  // The collections page: arriving at one collection's anchor opens its share form.
  function openTargetedShare() {
    if (!window.location.hash) return;
    var target = document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
    var details = target && target.querySelector("details.share-details");
    if (details) details.open = true;
  }
  window.addEventListener("hashchange", openTargetedShare);
  window.addEventListener("pageshow", function () { showScripted(document); });

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
    showScripted(root);
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
    var menu = menuButton();
    if (menu) menu.hidden = false;
    var selected = tabs().filter(function (tab) { return tab.getAttribute("aria-selected") === "true"; })[0];
    tabs().forEach(function (tab) { tab.tabIndex = tab === selected ? 0 : -1; });
    showShortcuts(document);
    showScripted(document);
    openTargetedShare();
    noteJobs(document);
    initialized = true;
    document.querySelectorAll("input[type=file][data-preview]").forEach(function (input) {
      if (input.files && input.files.length) showPreviews(input);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

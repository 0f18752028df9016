// The edit form's input images as one ordered list (templates/studio/_edit_inputs.html): files
// chosen, dropped or pasted join it, "Pick from gallery" adds images the user may see, and the
// thumbnails can be dragged (or moved with their arrow buttons) and removed. Each item carries a
// hidden "inputs" value (gallery:<id>, stored:<id> or upload:<k>, the k-th file of the file
// input), so the order sent is the list's. The mask editor paints over the first item and hears
// of every change through an "inputs-change" event on the form.
// Without this file the listed images and the files chosen are sent, files last.
(function () {
  "use strict";

  var DRAG_THRESHOLD = 6;  // px a thumbnail must move before a press becomes a drag

  function canSetFiles() {
    try { return typeof DataTransfer === "function" && !!new DataTransfer().files; } catch (error) { return false; }
  }

  function announce(text) {
    var announcer = document.getElementById("announcer");
    if (!announcer) return;
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  function Inputs(form) {
    this.form = form;
    this.root = form.querySelector("[data-inputs]");
    this.list = this.root.querySelector("[data-input-list]");
    this.template = this.root.querySelector("template[data-input-template]");
    this.fileInput = this.root.querySelector("input[type=file][name=image]");
    this.count = this.root.querySelector("[data-inputs-count]");
    this.max = Number(this.root.dataset.max) || 16;
    this.files = Array.prototype.slice.call(this.fileInput.files || []);
    this.drag = null;
    this.state = this.root.querySelector("[data-inputs-state]");
    this.enhance();
    this.placeFiles();
    this.bind();
    this.changed(null);
  }

  // The native input's own text ("No file chosen", "2 files") knows only its files, not the
  // gallery images listed: hide it behind its "Add images…" label and say the list's count.
  Inputs.prototype.enhance = function () {
    if (!this.state) return;
    this.root.classList.add("is-enhanced");
    this.root.querySelectorAll(".inputs-add, [data-inputs-state]").forEach(function (element) { element.hidden = false; });
    var described = (this.fileInput.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    if (described.indexOf(this.state.id) === -1) described.unshift(this.state.id);
    this.fileInput.setAttribute("aria-describedby", described.join(" "));
  };

  Inputs.prototype.items = function () { return Array.prototype.slice.call(this.list.children); };

  Inputs.prototype.room = function () { return this.max - this.items().length; };

  // After a submit the server lists places for the files (data-upload); the browser still holds
  // the files (studio.js carries them over the swap): put each in its place, the rest at the end.
  Inputs.prototype.placeFiles = function () {
    var self = this, placed = {};
    this.items().forEach(function (item) {
      if (item.dataset.upload === undefined) return;
      var index = Number(item.dataset.upload), file = self.files[index];
      if (!file) { item.remove(); return; }
      self.fillFileItem(item, file, index);
      placed[index] = true;
    });
    this.files.forEach(function (file, index) {
      if (!placed[index]) self.list.append(self.fileItem(file, index));
    });
  };

  Inputs.prototype.newItem = function (token, name) {
    var item = this.template.content.firstElementChild.cloneNode(true);
    this.setToken(item, token);
    item.querySelector("[data-input-name]").textContent = name;
    item.querySelector("[data-input-name]").title = name;
    item.querySelectorAll("[data-input-move], [data-input-remove]").forEach(function (button) {
      var verb = button.dataset.inputRemove !== undefined ? "Remove" : button.dataset.inputMove === "-1" ? "Move earlier" : "Move later";
      button.setAttribute("aria-label", verb + ": " + name);
    });
    item.querySelectorAll("[data-js-only]").forEach(function (element) { element.hidden = false; });
    return item;
  };

  Inputs.prototype.setToken = function (item, token) {
    item.dataset.token = token;
    item.querySelector("input[name=inputs]").value = token;
  };

  Inputs.prototype.thumbnail = function (item, src) {
    var frame = item.querySelector(".input-frame");
    var img = frame.querySelector("img") || document.createElement("img");
    img.alt = ""; img.width = 72; img.height = 72; img.draggable = false;
    img.src = src;
    if (!img.parentNode) frame.append(img);
  };

  Inputs.prototype.fileItem = function (file, index) {
    var item = this.newItem("upload:" + index, file.name);
    this.fillFileItem(item, file, index);
    return item;
  };

  Inputs.prototype.fillFileItem = function (item, file, index) {
    item.inputFile = file;  // the mask editor reads the first item's image from here
    item.dataset.upload = index;
    var name = item.querySelector("[data-input-name]");
    name.textContent = file.name; name.title = file.name;
    this.thumbnail(item, URL.createObjectURL(file));
  };

  Inputs.prototype.syncFiles = function () {
    var transfer = new DataTransfer();
    this.files.forEach(function (file) { transfer.items.add(file); });
    this.fileInput.files = transfer.files;
  };

  // ---- Adding ------------------------------------------------------------------------------
  Inputs.prototype.addFiles = function (fileList) {
    var images = Array.prototype.filter.call(fileList, function (file) { return /^image\//.test(file.type); });
    if (!images.length) return false;
    var room = this.room(), taken = images.slice(0, Math.max(0, room)), self = this;
    taken.forEach(function (file) {
      self.files.push(file);
      self.list.append(self.fileItem(file, self.files.length - 1));
    });
    this.syncFiles();
    var text = taken.length ? "Added " + taken.length + " image" + (taken.length === 1 ? "" : "s") + "." : "";
    if (taken.length < images.length) text += " At most " + this.max + " images: " + (images.length - taken.length) + " left out.";
    this.changed(text.trim());
    return true;
  };

  Inputs.prototype.itemFor = function (token) {
    return this.items().filter(function (item) { return item.dataset.token === token; })[0] || null;
  };

  Inputs.prototype.togglePicked = function (tile) {
    var token = tile.dataset.pick, name = tile.dataset.name || "Gallery image";
    var existing = this.itemFor(token);
    if (existing) { this.remove(existing, false); this.changed("Took out " + name + "."); return; }
    if (this.room() <= 0) { this.changed("Already " + this.max + " images: that is the most an edit takes."); return; }
    var item = this.newItem(token, name);
    item.dataset.full = tile.dataset.full;
    var img = tile.querySelector("img");
    if (img) this.thumbnail(item, img.currentSrc || img.src);
    this.list.append(item);
    this.changed("Added " + name + ".");
  };

  // ---- Removing and reordering ---------------------------------------------------------------
  Inputs.prototype.remove = function (item, say) {
    var name = item.querySelector("[data-input-name]").textContent;
    if (item.dataset.upload !== undefined) {
      var index = Number(item.dataset.upload), self = this;
      this.files.splice(index, 1);
      this.items().forEach(function (other) {
        var k = other.dataset.upload === undefined ? -1 : Number(other.dataset.upload);
        if (k > index) { other.dataset.upload = k - 1; self.setToken(other, "upload:" + (k - 1)); }
      });
      this.syncFiles();
    }
    var img = item.querySelector("img");
    if (img && img.src.indexOf("blob:") === 0) URL.revokeObjectURL(img.src);
    item.remove();
    if (say !== false) this.changed("Removed " + name + ".");
  };

  Inputs.prototype.move = function (item, delta) {
    var items = this.items(), index = items.indexOf(item), target = index + delta;
    if (target < 0 || target >= items.length) return;
    if (delta < 0) this.list.insertBefore(item, items[target]);
    else this.list.insertBefore(item, items[target].nextSibling);
    this.changed(this.position(item));
  };

  Inputs.prototype.position = function (item) {
    var items = this.items(), index = items.indexOf(item);
    var name = item.querySelector("[data-input-name]").textContent;
    return name + ": " + (index + 1) + " of " + items.length + (index === 0 ? ", the mask applies to it." : ".");
  };

  // ---- After every change ------------------------------------------------------------------
  Inputs.prototype.changed = function (text) {
    var items = this.items();
    this.list.hidden = !items.length;
    if (this.count) this.count.textContent = items.length ? items.length + " of " + this.max : "";
    if (this.state) {
      var stateText = items.length ? items.length + " image" + (items.length === 1 ? "" : "s") + " chosen" : "No images chosen";
      if (this.state.textContent !== stateText) this.state.textContent = stateText;
    }
    items.forEach(function (item, index) {
      var earlier = item.querySelector("[data-input-move='-1']"), later = item.querySelector("[data-input-move='1']");
      if (earlier) earlier.disabled = index === 0;
      if (later) later.disabled = index === items.length - 1;
    });
    this.markPicked();
    if (text) announce(text);
    this.form.dispatchEvent(new CustomEvent("inputs-change", { bubbles: true }));
  };

  // ---- Dragging a thumbnail to a new place (mouse, pen and touch) --------------------------
  Inputs.prototype.itemAt = function (x, y) {
    return this.items().filter(function (item) {
      var rect = item.getBoundingClientRect();
      return x >= rect.left && x <= rect.right && y >= rect.top && y <= rect.bottom;
    })[0] || null;
  };

  Inputs.prototype.dragMove = function (event) {
    var drag = this.drag;
    if (!drag.moved) {
      if (Math.abs(event.clientX - drag.x) + Math.abs(event.clientY - drag.y) < DRAG_THRESHOLD) return;
      drag.moved = true;
      drag.item.classList.add("is-dragging");
      this.list.classList.add("is-sorting");
    }
    var over = this.itemAt(event.clientX, event.clientY);
    if (!over || over === drag.item) return;
    var rect = over.getBoundingClientRect();
    var after = event.clientX > rect.left + rect.width / 2;
    this.list.insertBefore(drag.item, after ? over.nextSibling : over);
  };

  Inputs.prototype.dragEnd = function () {
    var drag = this.drag;
    this.drag = null;
    if (!drag.moved) return;
    drag.item.classList.remove("is-dragging");
    this.list.classList.remove("is-sorting");
    if (this.items().indexOf(drag.item) !== drag.from) this.changed(this.position(drag.item));
  };

  Inputs.prototype.bind = function () {
    var self = this, list = this.list;

    this.root.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button || !list.contains(button)) return;
      var item = button.closest(".input-item");
      if (button.dataset.inputRemove !== undefined) {
        var next = item.nextElementSibling || item.previousElementSibling;
        self.remove(item);
        var focus = next && next.querySelector("[data-input-remove]");
        (focus || self.fileInput).focus();
      } else if (button.dataset.inputMove) {
        self.move(item, Number(button.dataset.inputMove));
        // Moving the item took the focus from its button: give it back, or at an end of the
        // list (the button now disabled) to the item's other arrow.
        var keep = button.disabled ? item.querySelector("[data-input-move]:not([disabled])") : button;
        if (keep) keep.focus();
      }
    });

    // A file picker replaces its files with the ones just chosen: keep the earlier ones too.
    this.fileInput.addEventListener("change", function () {
      var chosen = Array.prototype.slice.call(self.fileInput.files || []);
      self.syncFiles();
      self.addFiles(chosen);
    });

    list.addEventListener("pointerdown", function (event) {
      var frame = event.target.closest(".input-frame");
      if (!frame || self.drag || (event.pointerType === "mouse" && event.button !== 0)) return;
      event.preventDefault();  // no text selection or native image drag
      var item = frame.closest(".input-item");
      item.setPointerCapture(event.pointerId);
      self.drag = { item: item, id: event.pointerId, x: event.clientX, y: event.clientY, moved: false,
                    from: self.items().indexOf(item) };
    });
    list.addEventListener("pointermove", function (event) {
      if (self.drag && self.drag.id === event.pointerId) self.dragMove(event);
    });
    ["pointerup", "pointercancel"].forEach(function (type) {
      list.addEventListener(type, function (event) {
        if (self.drag && self.drag.id === event.pointerId) self.dragEnd();
      });
    });

    // Files dropped anywhere on the form.
    function hasFiles(event) {
      return event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types || [], "Files") !== -1;
    }
    ["dragenter", "dragover"].forEach(function (type) {
      self.form.addEventListener(type, function (event) {
        if (!hasFiles(event)) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = "copy";
        self.form.classList.add("is-dropping");
      });
    });
    this.form.addEventListener("dragleave", function (event) {
      if (!self.form.contains(event.relatedTarget)) self.form.classList.remove("is-dropping");
    });
    this.form.addEventListener("drop", function (event) {
      self.form.classList.remove("is-dropping");
      if (!hasFiles(event)) return;
      event.preventDefault();
      self.addFiles(event.dataTransfer.files);
    });
  };

  // ---- The gallery picker (a dialog outside the form) ---------------------------------------
  Inputs.prototype.markPicked = function () {
    var dialog = document.getElementById("pick-dialog");
    if (!dialog) return;
    var self = this;
    dialog.querySelectorAll("a[data-pick]").forEach(function (tile) {
      tile.setAttribute("role", "button");
      tile.setAttribute("aria-pressed", self.itemFor(tile.dataset.pick) ? "true" : "false");
    });
    var status = dialog.querySelector("[data-pick-status]");
    if (status && dialog.open) status.textContent = this.items().length + " of " + this.max + " inputs chosen.";
  };

  function openPicker(dialog) {
    var results = dialog.querySelector("#pick-dialog-results");
    if (!results.dataset.loaded && window.htmx) {
      results.dataset.loaded = "true";
      window.htmx.ajax("GET", results.dataset.src, { target: results, swap: "innerHTML" });
    }
    dialog.showModal();
    if (inputs) inputs.markPicked();
  }

  document.addEventListener("click", function (event) {
    if (!event.target.closest) return;
    var opener = event.target.closest("[data-pick-open]");
    var dialog = document.getElementById("pick-dialog");
    if (opener && dialog && inputs && !event.metaKey && !event.ctrlKey && !event.shiftKey) {
      event.preventDefault();
      openPicker(dialog);
      return;
    }
    if (!dialog || !dialog.contains(event.target)) return;
    if (event.target.closest("[data-pick-close]")) { dialog.close(); return; }
    if (event.target === dialog) { dialog.close(); return; }  // a click on the backdrop
    var tile = event.target.closest("a[data-pick]");
    if (tile && inputs) {
      event.preventDefault();
      inputs.togglePicked(tile);
    }
  });

  // The tiles are links (they open the studio without scripting); as buttons, Space presses too.
  document.addEventListener("keydown", function (event) {
    if (event.key !== " " || !event.target.matches || !event.target.matches("#pick-dialog a[data-pick]")) return;
    event.preventDefault();
    event.target.click();
  });

  // ---- Wiring -------------------------------------------------------------------------------
  var inputs = null;

  function init() {
    var form = document.getElementById("edit-form");
    if (!form || !form.querySelector("[data-inputs]") || !canSetFiles()) { inputs = null; return; }
    if (inputs && inputs.form === form) return;
    inputs = new Inputs(form);
    form.dataset.inputs = "ready";
  }

  document.addEventListener("DOMContentLoaded", init);
  // A swapped form is new; studio.js has put the chosen files back into it by then.
  document.addEventListener("htmx:load", function (event) {
    setTimeout(init, 0);
    var dialog = document.getElementById("pick-dialog");
    if (inputs && dialog && dialog.contains(event.detail.elt)) inputs.markPicked();
  });

  // Paste images while the edit tab is shown (text pastes are left alone).
  document.addEventListener("paste", function (event) {
    if (!inputs || !event.clipboardData) return;
    var panel = inputs.form.closest("[role=tabpanel]");
    if (panel && panel.hidden) return;
    var files = event.clipboardData.files;
    if (files && files.length && inputs.addFiles(files)) event.preventDefault();
  });
})();

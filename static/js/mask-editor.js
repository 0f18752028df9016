// Mask painting for the edit form: a progressive enhancement. Without this file the image and
// mask file inputs work as before. The mask lives in an offscreen canvas at the first image's
// natural size ("paint": alpha > 0 where the user painted); what is sent is its inverse, a PNG
// opaque everywhere but transparent where painted (the area to edit).
(function () {
  "use strict";

  var MAX_UNDO = 20;
  var MASK_NAME = "mask.png";
  var PAINT = "rgb(255 0 0)";
  // A second finger this soon after the first means a pinch: the stroke the first began is taken back.
  var PINCH_GRACE_MS = 300;
  var LASSO_STEP_PX = 2;  // screen pixels between the lasso's recorded points
  var COLOUR_KEY = "studio.maskColour";  // the overlay colour, remembered per browser

  function $(root, selector) { return root.querySelector(selector); }

  function distance(a, b) { var dx = a.x - b.x, dy = a.y - b.y; return Math.sqrt(dx * dx + dy * dy); }
  function midpoint(a, b) { return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 }; }

  function tracePolygon(context, points) {
    context.moveTo(points[0].x, points[0].y);
    for (var i = 1; i < points.length; i++) context.lineTo(points[i].x, points[i].y);
    context.closePath();
  }

  function polygonArea(points) {  // the shoelace formula
    var twice = 0;
    for (var i = 0, j = points.length - 1; i < points.length; j = i++) {
      twice += (points[j].x + points[i].x) * (points[j].y - points[i].y);
    }
    return Math.abs(twice) / 2;
  }

  function Editor(form) {
    this.form = form;
    this.root = $(form, "[data-mask-editor]");
    this.canvas = $(this.root, "canvas");
    this.ctx = this.canvas.getContext("2d");
    this.maskInput = form.querySelector("input[type=file][name=mask]");
    this.status = $(this.root, "[data-status]");
    this.tool = "brush";
    this.size = 48;
    this.hardness = 0.8;
    this.overlay = true;
    this.colour = "#ff0000";
    this.tinted = null;        // the paint in the overlay colour, redrawn when either changes
    this.focused = false;      // full screen: the painting over the whole window
    this.inerted = [];         // what full screen made inert behind it
    this.base = null;
    this.paint = null;
    this.undoStack = [];
    this.redoStack = [];
    this.scale = 1; this.ox = 0; this.oy = 0;
    this.drag = null;          // the pointer drawing or panning now
    this.pinch = null;         // two fingers zooming and panning: { a, b, spread, mid } in client pixels
    this.dirty = false;        // painted since the last export
    this.generated = false;    // the mask input holds our own mask.png
    this.baseKey = null;
    this.bind();
    this.refreshBase();
  }

  Editor.prototype.say = function (text) { if (this.status) this.status.textContent = text; };

  // ---- The image the mask applies to --------------------------------------------------
  // The first of the inputs (static/js/edit-inputs.js keeps the list, and each file on its item).
  Editor.prototype.baseSource = function () {
    var first = this.form.querySelector("[data-input-list] > .input-item");
    if (!first) return null;
    var file = first.inputFile, nameElement = first.querySelector("[data-input-name]");
    var name = nameElement ? nameElement.textContent : "";
    if (file) return { key: "file:" + file.name + ":" + file.size + ":" + file.lastModified, file: file, name: file.name };
    if (first.dataset.full) return { key: "url:" + first.dataset.full, url: first.dataset.full, name: name };
    return null;
  };

  Editor.prototype.refreshBase = function () {
    var source = this.baseSource();
    var key = source ? source.key : null;
    if (key === this.baseKey) return;
    this.baseKey = key;
    if (!source) {
      this.setFocus(false);
      this.root.hidden = true; this.base = null; this.paint = null;
      this.dropGenerated();
      return;
    }
    var self = this;
    var img = new Image();
    var url = source.url || URL.createObjectURL(source.file);
    img.onload = function () {
      if (self.baseKey !== key) return;
      if (source.file) URL.revokeObjectURL(url);
      self.setBase(img, source.name);
    };
    img.onerror = function () { if (source.file) URL.revokeObjectURL(url); self.root.hidden = true; };
    img.src = url;
  };

  Editor.prototype.setBase = function (img, name) {
    var keep = this.paint && this.paint.width === img.naturalWidth && this.paint.height === img.naturalHeight;
    this.base = img;
    if (!keep) {
      this.dropGenerated();  // painted for another image: the wrong size now
      this.paint = document.createElement("canvas");
      this.paint.width = img.naturalWidth;
      this.paint.height = img.naturalHeight;
      this.undoStack = []; this.redoStack = [];
    }
    this.root.hidden = false;
    this.root.dataset.width = img.naturalWidth;
    this.root.dataset.height = img.naturalHeight;
    var label = $(this.root, "[data-base-name]");
    if (label) label.textContent = (name || "the first image") + " · " + img.naturalWidth + "×" + img.naturalHeight;
    this.fit();
    this.updateButtons();
    if (!keep) this.loadStartingMask();
  };

  // A mask to start from loads into the editor to be refined (transparent = painted): the one
  // uploaded, or else the kept mask of the earlier edit being fixed and resubmitted. Refining the
  // kept mask sends the result as an upload, which the server takes over the kept one.
  Editor.prototype.loadStartingMask = function () {
    var file = this.maskInput && this.maskInput.files && this.maskInput.files[0];
    if (file) {
      this.loadMask(URL.createObjectURL(file), "the mask " + file.name, true, file.name === MASK_NAME);
      return;
    }
    var kept = this.form.querySelector("img[data-kept-mask]");
    if (kept) this.loadMask(kept.src, "the earlier edit's mask", false, false);
  };

  Editor.prototype.loadMask = function (url, what, revoke, generated) {
    if (!this.paint) return;
    var self = this;
    var img = new Image();
    img.onload = function () {
      if (revoke) URL.revokeObjectURL(url);
      var w = self.paint.width, h = self.paint.height;
      var tmp = document.createElement("canvas");
      tmp.width = w; tmp.height = h;
      var t = tmp.getContext("2d");
      t.drawImage(img, 0, 0, w, h);
      var data = t.getImageData(0, 0, w, h);
      for (var i = 0; i < data.data.length; i += 4) {
        var a = 255 - data.data[i + 3];
        data.data[i] = 255; data.data[i + 1] = 0; data.data[i + 2] = 0; data.data[i + 3] = a;
      }
      if (!self.isEmpty()) self.snapshot();  // replacing paint can be undone; the starting mask is no step
      self.paint.getContext("2d").putImageData(data, 0, 0);
      self.generated = generated;
      self.render();
      self.say("Loaded " + what + " to refine.");
    };
    img.onerror = function () { if (revoke) URL.revokeObjectURL(url); };
    img.src = url;
  };

  // ---- View: fit, zoom, pan -------------------------------------------------------------
  Editor.prototype.resizeCanvas = function () {
    var dpr = window.devicePixelRatio || 1;
    var w = this.canvas.clientWidth, h = this.canvas.clientHeight;
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(h * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(h * dpr);
    }
  };

  Editor.prototype.fit = function () {
    if (!this.base) return;
    this.resizeCanvas();
    var w = this.canvas.clientWidth, h = this.canvas.clientHeight;
    this.scale = Math.min(w / this.base.naturalWidth, h / this.base.naturalHeight);
    this.ox = (w - this.base.naturalWidth * this.scale) / 2;
    this.oy = (h - this.base.naturalHeight * this.scale) / 2;
    this.render();
  };

  Editor.prototype.zoom = function (factor, cx, cy) {
    if (!this.base) return;
    if (cx === undefined) { cx = this.canvas.clientWidth / 2; cy = this.canvas.clientHeight / 2; }
    var next = Math.max(0.05, Math.min(32, this.scale * factor));
    var k = next / this.scale;
    this.ox = cx - (cx - this.ox) * k;
    this.oy = cy - (cy - this.oy) * k;
    this.scale = next;
    this.render();
    this.say("Zoom " + Math.round(this.scale * 100) + "%");
  };

  Editor.prototype.toImage = function (event) {
    var rect = this.canvas.getBoundingClientRect();
    return { x: (event.clientX - rect.left - this.ox) / this.scale, y: (event.clientY - rect.top - this.oy) / this.scale };
  };

  // ---- Drawing --------------------------------------------------------------------------
  Editor.prototype.render = function () {
    if (!this.base) return;
    this.resizeCanvas();
    var dpr = window.devicePixelRatio || 1;
    var ctx = this.ctx;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.setTransform(dpr * this.scale, 0, 0, dpr * this.scale, dpr * this.ox, dpr * this.oy);
    ctx.imageSmoothingEnabled = this.scale < 1;
    ctx.drawImage(this.base, 0, 0);
    if (this.overlay && this.paint) {
      ctx.globalAlpha = 0.55;
      ctx.drawImage(this.tint(), 0, 0);
      ctx.globalAlpha = 1;
    }
    var drag = this.drag;
    if (drag && (drag.rect || drag.points)) {  // the shape that is filled on release
      ctx.lineWidth = 2 / this.scale;
      ctx.setLineDash([6 / this.scale, 4 / this.scale]);
      ctx.strokeStyle = "#ffffff";
      ctx.beginPath();
      if (drag.rect) ctx.rect(drag.rect.x, drag.rect.y, drag.rect.w, drag.rect.h);
      else tracePolygon(ctx, drag.points);
      ctx.stroke();
      ctx.setLineDash([]);
    }
  };

  // The paint shown in the overlay colour (red vanishes on a red picture): only its alpha is the
  // mask, so the colour is the view's alone and never reaches the file sent.
  Editor.prototype.tint = function () {
    var w = this.paint.width, h = this.paint.height;
    if (!this.tinted || this.tinted.width !== w || this.tinted.height !== h) {
      this.tinted = document.createElement("canvas");
      this.tinted.width = w; this.tinted.height = h;
    }
    var t = this.tinted.getContext("2d");
    t.globalCompositeOperation = "copy";
    t.drawImage(this.paint, 0, 0);
    t.globalCompositeOperation = "source-in";
    t.fillStyle = this.colour;
    t.fillRect(0, 0, w, h);
    t.globalCompositeOperation = "source-over";
    return this.tinted;
  };

  Editor.prototype.snapshot = function () {
    var c = this.paint.getContext("2d");
    this.undoStack.push(c.getImageData(0, 0, this.paint.width, this.paint.height));
    if (this.undoStack.length > MAX_UNDO) this.undoStack.shift();
    this.redoStack = [];
    this.updateButtons();
  };

  Editor.prototype.restore = function (from, to) {
    if (!this.paint || !from.length) return;
    var c = this.paint.getContext("2d");
    to.push(c.getImageData(0, 0, this.paint.width, this.paint.height));
    c.putImageData(from.pop(), 0, 0);
    this.changed();
  };

  Editor.prototype.stamp = function (x, y) {
    var c = this.paint.getContext("2d");
    var r = this.size / 2;
    c.globalCompositeOperation = this.tool === "eraser" ? "destination-out" : "source-over";
    if (this.hardness >= 0.99) {
      c.fillStyle = PAINT;
    } else {
      var g = c.createRadialGradient(x, y, 0, x, y, r);
      g.addColorStop(0, "rgb(255 0 0 / 1)");
      g.addColorStop(Math.max(0, this.hardness), "rgb(255 0 0 / 1)");
      g.addColorStop(1, "rgb(255 0 0 / 0)");
      c.fillStyle = g;
    }
    c.beginPath();
    c.arc(x, y, r, 0, Math.PI * 2);
    c.fill();
    c.globalCompositeOperation = "source-over";
  };

  Editor.prototype.strokeTo = function (p) {
    var last = this.drag.last;
    var dx = p.x - last.x, dy = p.y - last.y;
    var dist = Math.sqrt(dx * dx + dy * dy);
    var step = Math.max(1, this.size / 6);
    for (var d = step; d <= dist; d += step) this.stamp(last.x + dx * d / dist, last.y + dy * d / dist);
    if (dist >= step) this.drag.last = p;
  };

  // Paints a shape, after a snapshot for undo; ``trace`` adds the shape's path to the context.
  Editor.prototype.fillShape = function (trace) {
    this.snapshot();
    var c = this.paint.getContext("2d");
    c.fillStyle = PAINT;
    c.beginPath();
    trace(c);
    c.fill();
  };

  // Both return whether they painted: a shape of no area leaves the mask (and the undo history) alone.
  Editor.prototype.fillRect = function (r) {
    if (!r || r.w < 1 || r.h < 1) return false;
    this.fillShape(function (c) { c.rect(Math.round(r.x), Math.round(r.y), Math.round(r.w), Math.round(r.h)); });
    return true;
  };

  Editor.prototype.fillPolygon = function (points) {
    if (points.length < 3 || polygonArea(points) < 1) return false;
    this.fillShape(function (c) { tracePolygon(c, points); });
    return true;
  };

  // Everything is to change: a start for "all but…" with the eraser, or for a full regeneration.
  Editor.prototype.fillAll = function () {
    if (!this.paint) return;
    var w = this.paint.width, h = this.paint.height;
    this.fillShape(function (c) { c.rect(0, 0, w, h); });
    this.changed();
    this.say("Whole image painted.");
  };

  Editor.prototype.invert = function () {
    if (!this.paint) return;
    this.snapshot();
    var tmp = this.inverseCanvas(PAINT);
    var c = this.paint.getContext("2d");
    c.clearRect(0, 0, this.paint.width, this.paint.height);
    c.drawImage(tmp, 0, 0);
    this.changed();
    this.say("Mask inverted.");
  };

  // A canvas the size of the mask, filled with ``fill`` except where paint lies (there it is transparent).
  Editor.prototype.inverseCanvas = function (fill) {
    var w = this.paint.width, h = this.paint.height;
    var canvas = document.createElement("canvas");
    canvas.width = w; canvas.height = h;
    var context = canvas.getContext("2d");
    context.fillStyle = fill;
    context.fillRect(0, 0, w, h);
    context.globalCompositeOperation = "destination-out";
    context.drawImage(this.paint, 0, 0);
    return canvas;
  };

  Editor.prototype.clear = function () {
    if (!this.paint) return;
    this.snapshot();
    this.paint.getContext("2d").clearRect(0, 0, this.paint.width, this.paint.height);
    this.changed();
    this.say("Mask cleared.");
  };

  Editor.prototype.isEmpty = function () {
    var data = this.paint.getContext("2d").getImageData(0, 0, this.paint.width, this.paint.height).data;
    for (var i = 3; i < data.length; i += 4) if (data[i]) return false;
    return true;
  };

  // ---- Pointers: strokes, shapes, panning and the two-finger pinch -------------------------
  // A drag's kind: "stroke" (brush or eraser, painting from the first touch), "rect" or "lasso"
  // (filled on release), "pan", or "idle" (a finger left down after a pinch: it does nothing).
  Editor.prototype.beginDrag = function (event) {
    var p = this.toImage(event);
    var pan = this.tool === "pan" || event.button === 1 || this.spaceDown;
    var kind = pan ? "pan" : (this.tool === "rect" || this.tool === "lasso") ? this.tool : "stroke";
    var drag = this.drag = { id: event.pointerId, kind: kind, touch: event.pointerType === "touch",
                             began: event.timeStamp, start: p, last: p, x: event.clientX, y: event.clientY };
    if (kind === "lasso") drag.points = [p];
    if (kind !== "stroke") return;
    drag.redoBefore = this.redoStack;  // the snapshot clears it: a cancelled stroke gives it back
    this.snapshot();
    this.stamp(p.x, p.y);
    this.render();
  };

  Editor.prototype.moveDrag = function (event) {
    var drag = this.drag;
    var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    drag.x = event.clientX; drag.y = event.clientY;  // where a pinch starts if a second finger lands
    if (drag.kind === "idle") return;
    if (drag.kind === "pan") { this.ox += dx; this.oy += dy; this.render(); return; }
    var p = this.toImage(event);
    if (drag.kind === "rect") {
      drag.rect = { x: Math.min(drag.start.x, p.x), y: Math.min(drag.start.y, p.y),
                    w: Math.abs(p.x - drag.start.x), h: Math.abs(p.y - drag.start.y) };
    } else if (drag.kind === "lasso") {
      if (distance(p, drag.last) * this.scale < LASSO_STEP_PX) return;
      drag.points.push(p);
      drag.last = p;
    } else {
      this.strokeTo(p);
    }
    this.render();
  };

  // The drag ends at image point ``p``: the stroke's last stamp, or the shape filled.
  Editor.prototype.finishDrag = function (p) {
    var drag = this.drag, painted = false;
    if (drag.kind === "rect") {
      painted = this.fillRect(drag.rect);
    } else if (drag.kind === "lasso") {
      drag.points.push(p);
      painted = this.fillPolygon(drag.points);
    } else if (drag.kind === "stroke") {
      this.strokeTo(p);
      if (drag.last.x !== p.x || drag.last.y !== p.y) this.stamp(p.x, p.y);
      painted = true;
    }
    this.drag = null;
    if (painted) this.changed();
    else if (drag.kind !== "pan" && drag.kind !== "idle") this.render();  // drop the shape's outline
  };

  // Takes the drag back as if it never happened: a stroke's pixels and its undo step.
  Editor.prototype.cancelDrag = function () {
    var drag = this.drag;
    this.drag = null;
    if (drag.kind === "stroke") {
      this.paint.getContext("2d").putImageData(this.undoStack.pop(), 0, 0);
      this.redoStack = drag.redoBefore;
      this.updateButtons();
    }
    this.render();
  };

  // A second finger lands while the first one's touch drag goes on: from now on the two pinch.
  Editor.prototype.startPinch = function (event) {
    var first = this.drag;
    if (first.kind !== "idle") {
      if (event.timeStamp - first.began < PINCH_GRACE_MS) this.cancelDrag();  // no stray dot
      else this.finishDrag(this.toImage({ clientX: first.x, clientY: first.y }));  // a real stroke stays
    }
    this.drag = null;
    var a = { id: first.id, x: first.x, y: first.y }, b = { id: event.pointerId, x: event.clientX, y: event.clientY };
    this.pinch = { a: a, b: b, spread: distance(a, b), mid: midpoint(a, b) };
  };

  // The view follows the fingers: it pans with their midpoint and zooms by the change in their
  // spread around it, so the image point between them stays between them.
  Editor.prototype.movePinch = function (event) {
    var pinch = this.pinch;
    var finger = event.pointerId === pinch.a.id ? pinch.a : event.pointerId === pinch.b.id ? pinch.b : null;
    if (!finger) return;
    finger.x = event.clientX; finger.y = event.clientY;
    var spread = distance(pinch.a, pinch.b), mid = midpoint(pinch.a, pinch.b);
    this.ox += mid.x - pinch.mid.x;
    this.oy += mid.y - pinch.mid.y;
    var rect = this.canvas.getBoundingClientRect();
    this.zoom(pinch.spread > 0 && spread > 0 ? spread / pinch.spread : 1, mid.x - rect.left, mid.y - rect.top);
    pinch.spread = spread;
    pinch.mid = mid;
  };

  // Lifting either finger ends the pinch; the other rests without painting until it lifts too
  // (or pinches again with a new second finger).
  Editor.prototype.endPinch = function (event) {
    var pinch = this.pinch;
    var rest = event.pointerId === pinch.a.id ? pinch.b : event.pointerId === pinch.b.id ? pinch.a : null;
    if (!rest) return;
    this.pinch = null;
    this.drag = { id: rest.id, kind: "idle", touch: true, x: rest.x, y: rest.y };
  };

  // ---- The mask sent with the form --------------------------------------------------------
  Editor.prototype.changed = function () {
    this.dirty = true;
    this.root.dataset.mask = "pending";
    this.render();
    this.updateButtons();
    var self = this;
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.exportMask(); }, 200);
  };

  Editor.prototype.exportMask = function () {
    var self = this;
    clearTimeout(this.timer);
    if (!this.paint) return Promise.resolve();
    this.dirty = false;
    var empty = this.isEmpty();
    // A kept mask (fix and resubmit) goes when everything is cleared; any painted mask replaces it.
    var kept = this.form.querySelector("input[name=mask_image]");
    if (kept) {
      kept.disabled = empty;
      var keptView = kept.closest(".kept-mask");
      if (keptView) keptView.classList.toggle("is-dropped", empty);
    }
    if (empty) {
      if (this.generated) { this.setMaskFiles(new DataTransfer().files); this.generated = false; }
      this.root.dataset.mask = "none";
      return Promise.resolve();
    }
    var out = this.inverseCanvas("#000");  // opaque everywhere but the painted area
    return new Promise(function (resolve) {
      out.toBlob(function (blob) {
        if (blob && !self.dirty) {
          var transfer = new DataTransfer();
          transfer.items.add(new File([blob], MASK_NAME, { type: "image/png" }));
          self.setMaskFiles(transfer.files);
          self.generated = true;
          self.root.dataset.mask = "set";
        }
        resolve();
      }, "image/png");
    });
  };

  // The editor shows the painted mask itself: the upload preview is emptied rather than
  // refreshed, so nothing above the canvas moves while painting.
  Editor.prototype.setMaskFiles = function (files) {
    if (!this.maskInput) return;
    this.maskInput.files = files;
    var list = this.maskInput.dataset.preview && document.getElementById(this.maskInput.dataset.preview);
    if (list) {
      list.querySelectorAll("img").forEach(function (img) { URL.revokeObjectURL(img.src); });
      list.textContent = "";
      list.hidden = true;
    }
  };

  Editor.prototype.dropGenerated = function () {
    if (!this.generated) return;
    this.setMaskFiles(new DataTransfer().files);
    this.generated = false;
    delete this.root.dataset.mask;
  };

  // ---- Tools and controls -----------------------------------------------------------------
  Editor.prototype.setTool = function (tool) {
    this.tool = tool;
    this.root.querySelectorAll("[data-tool]").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.tool === tool));
    });
    this.canvas.dataset.tool = tool;
  };

  Editor.prototype.setSize = function (size) {
    this.size = Math.max(1, Math.min(512, Math.round(size)));
    var input = $(this.root, "[data-setting=size]");
    if (input) input.value = this.size;
    var out = $(this.root, "[data-size-value]");
    if (out) out.textContent = this.size + " px";
  };

  Editor.prototype.updateButtons = function () {
    var undo = $(this.root, "[data-action=undo]"), redo = $(this.root, "[data-action=redo]");
    if (undo) undo.disabled = !this.undoStack.length;
    if (redo) redo.disabled = !this.redoStack.length;
  };

  Editor.prototype.action = function (name) {
    switch (name) {
      case "undo": this.restore(this.undoStack, this.redoStack); this.say("Undone."); break;
      case "redo": this.restore(this.redoStack, this.undoStack); this.say("Redone."); break;
      case "invert": this.invert(); break;
      case "fill": this.fillAll(); break;
      case "clear": this.clear(); break;
      case "zoom-in": this.zoom(1.25); break;
      case "zoom-out": this.zoom(0.8); break;
      case "fit": this.fit(); this.say("Fitted to view."); break;
      case "focus": this.setFocus(!this.focused); break;
    }
  };

  Editor.prototype.key = function (event) {
    var k = event.key;
    var mod = event.ctrlKey || event.metaKey;
    if (mod && (k === "z" || k === "Z")) { this.action(event.shiftKey ? "redo" : "undo"); return true; }
    if (mod && (k === "y" || k === "Y")) { this.action("redo"); return true; }
    if (mod || event.altKey) return false;
    if (k === "Escape" && this.focused) { this.setFocus(false); return true; }
    if (event.shiftKey && (k === "F" || k === "f")) { this.setFocus(!this.focused); return true; }
    var tools = { b: "brush", e: "eraser", r: "rect", l: "lasso", h: "pan" };
    var lower = k.toLowerCase();
    if (tools[lower]) { this.setTool(tools[lower]); return true; }
    if (lower === "i") { this.action("invert"); return true; }
    if (lower === "f") { this.action("fill"); return true; }
    if (lower === "x") { this.action("clear"); return true; }
    if (lower === "m") { this.setOverlay(!this.overlay); return true; }
    if (k === "+" || k === "=") { this.action("zoom-in"); return true; }
    if (k === "-" || k === "_") { this.action("zoom-out"); return true; }
    if (k === "0") { this.action("fit"); return true; }
    if (k === "[") { this.setSize(this.size / 1.25); return true; }
    if (k === "]") { this.setSize(this.size * 1.25); return true; }
    return false;
  };

  Editor.prototype.setColour = function (colour, remember) {
    if (!/^#[0-9a-f]{6}$/i.test(colour || "")) return;
    this.colour = colour;
    var input = $(this.root, "[data-setting=colour]");
    if (input) input.value = colour;
    if (remember) { try { localStorage.setItem(COLOUR_KEY, colour); } catch (e) { /* private mode */ } }
    this.render();
  };

  // Full screen: the painting covers the window, tools in one row above it. Everything behind
  // is made inert (as a modal dialog would), so Tab stays among the painting's controls.
  Editor.prototype.setFocus = function (on) {
    if (on === this.focused) return;
    this.focused = on;
    var button = $(this.root, "[data-action=focus]");
    if (on) {
      this.inerted = [];
      for (var node = this.root; node && node !== document.body; node = node.parentElement) {
        var parent = node.parentElement;
        if (!parent) break;
        for (var i = 0; i < parent.children.length; i++) {
          var sibling = parent.children[i];
          if (sibling !== node && !sibling.inert && sibling.tagName !== "SCRIPT") { sibling.inert = true; this.inerted.push(sibling); }
        }
      }
      this.root.setAttribute("role", "dialog");
      this.root.setAttribute("aria-modal", "true");
      this.root.setAttribute("aria-labelledby", "edit-mask-editor-label");
    } else {
      this.inerted.forEach(function (element) { element.inert = false; });
      this.inerted = [];
      ["role", "aria-modal", "aria-labelledby"].forEach(function (name) { this.root.removeAttribute(name); }, this);
    }
    this.root.classList.toggle("is-focus", on);
    document.documentElement.classList.toggle("has-focus-painting", on);
    if (button) button.setAttribute("aria-pressed", String(on));  // a toggle: its name stays, its state changes
    this.fit();
    if (on) this.canvas.focus({ preventScroll: true });
    else if (button) { button.focus({ preventScroll: true }); button.scrollIntoView({ block: "nearest" }); }
    this.say(on ? "Full screen: Escape to leave." : "");
  };

  Editor.prototype.setOverlay = function (on) {
    this.overlay = on;
    var box = $(this.root, "[data-setting=overlay]");
    if (box) box.checked = on;
    this.render();
  };

  Editor.prototype.bind = function () {
    var self = this, canvas = this.canvas;
    this.setTool("brush");
    this.setSize(Number(($(this.root, "[data-setting=size]") || {}).value) || this.size);
    var remembered = null;
    try { remembered = localStorage.getItem(COLOUR_KEY); } catch (e) { /* private mode */ }
    if (remembered) this.setColour(remembered, false);

    this.root.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button || !self.root.contains(button)) return;
      if (button.dataset.tool) self.setTool(button.dataset.tool);
      if (button.dataset.action) self.action(button.dataset.action);
    });
    this.root.addEventListener("input", function (event) {
      var setting = event.target.dataset.setting;
      if (setting === "size") self.setSize(Number(event.target.value));
      if (setting === "hardness") self.hardness = Number(event.target.value) / 100;
      if (setting === "overlay") self.setOverlay(event.target.checked);
      if (setting === "colour") self.setColour(event.target.value, true);
    });
    this.root.addEventListener("keydown", function (event) {
      if (event.target.matches("input[type=range]") && /^(Arrow|Home|End|Page)/.test(event.key)) return;
      if (event.target.matches("input[type=color]") && event.key !== "Escape") return;
      if (self.key(event)) { event.preventDefault(); event.stopPropagation(); }
    });

    canvas.addEventListener("pointerdown", function (event) {
      if (!self.base || self.pinch) return;  // a third finger changes nothing
      var touch = event.pointerType === "touch";
      if (touch && self.drag && self.drag.touch) {
        event.preventDefault();
        canvas.setPointerCapture(event.pointerId);
        self.startPinch(event);
        return;
      }
      // One pointer at a time: e.g. a palm resting on the screen while a pen draws is ignored.
      if (self.drag || (event.pointerType === "mouse" && event.button !== 0 && event.button !== 1)) return;
      event.preventDefault();
      canvas.focus({ preventScroll: true });
      canvas.setPointerCapture(event.pointerId);
      self.beginDrag(event);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (self.pinch) self.movePinch(event);
      else if (self.drag && self.drag.id === event.pointerId) self.moveDrag(event);
    });
    function end(event) {
      if (self.pinch) self.endPinch(event);
      else if (self.drag && self.drag.id === event.pointerId) self.finishDrag(self.toImage(event));
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    canvas.addEventListener("wheel", function (event) {
      if (!self.base) return;
      event.preventDefault();
      var rect = canvas.getBoundingClientRect();
      self.zoom(event.deltaY < 0 ? 1.1 : 1 / 1.1, event.clientX - rect.left, event.clientY - rect.top);
    }, { passive: false });
    canvas.addEventListener("keydown", function (event) { if (event.key === " ") { self.spaceDown = true; event.preventDefault(); } });
    canvas.addEventListener("keyup", function (event) { if (event.key === " ") self.spaceDown = false; });

    this.form.addEventListener("inputs-change", function () { self.refreshBase(); });
    this.form.addEventListener("change", function (event) {
      if (event.target === self.maskInput) {
        self.generated = false;
        if (self.maskInput.files.length) self.loadStartingMask();
      }
    });
  };

  // ---- Wiring ---------------------------------------------------------------------------------
  var editor = null;

  function init() {
    var form = document.getElementById("edit-form");
    if (!form || !$(form, "[data-mask-editor]")) { editor = null; return; }
    if (editor && editor.form === form) return;
    if (editor) editor.setFocus(false);  // the old form is gone: give the page back
    editor = new Editor(form);
    form.dataset.maskEditor = "ready";
  }

  document.addEventListener("DOMContentLoaded", init);
  // After an htmx swap the form is new; studio.js puts the chosen files back first.
  document.addEventListener("htmx:load", function () { setTimeout(init, 0); });
  window.addEventListener("resize", function () { if (editor && editor.base) editor.fit(); });

  // Make sure the painted mask is in the file input before htmx reads the form.
  document.addEventListener("submit", function (event) {
    if (!editor || event.target !== editor.form || !editor.dirty) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    editor.exportMask().then(function () { editor.form.requestSubmit(); });
  }, true);
})();

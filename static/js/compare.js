/* Compare two versions (templates/gallery/compare.html): a slider overlay or side by side, zoomed
   together. Without this script the page shows the two side by side, unzoomed. */
(function () {
  "use strict";

  var ZOOMS = [1, 1.5, 2, 3, 4];

  function init(root) {
    if (root.dataset.compareReady) return;
    root.dataset.compareReady = "true";
    var toolbar = root.querySelector(".compare-toolbar");
    var splitBox = root.querySelector(".compare-split");
    var range = splitBox.querySelector("input[type=range]");
    var modeButtons = root.querySelectorAll("[data-compare-mode]");
    var zoomOut = root.querySelector("[data-compare-zoom=out]");
    var zoomIn = root.querySelector("[data-compare-zoom=in]");
    var zoomReset = root.querySelector("[data-compare-zoom=reset]");
    var level = root.querySelector(".compare-zoom-level");
    var frames = root.querySelectorAll(".compare-frame");
    var zoom = 0;

    function setMode(mode) {
      root.dataset.mode = mode;
      modeButtons.forEach(function (button) {
        button.setAttribute("aria-pressed", String(button.dataset.compareMode === mode));
      });
      splitBox.hidden = mode !== "slider";
      syncScroll(frames[0]);
    }

    function setSplit() {
      var value = Number(range.value);
      root.style.setProperty("--split", value + "%");
      range.setAttribute("aria-valuetext", value + "% image A, " + (100 - value) + "% image B");
    }

    function setZoom(index) {
      zoom = Math.max(0, Math.min(ZOOMS.length - 1, index));
      root.dataset.zoom = String(ZOOMS[zoom]);
      level.textContent = Math.round(ZOOMS[zoom] * 100) + "%";
      zoomOut.disabled = zoom === 0;
      zoomIn.disabled = zoom === ZOOMS.length - 1;
      zoomReset.disabled = zoom === 0;
    }

    // Panning one image pans the other: they stay on the same spot.
    var syncing = false;
    function syncScroll(source) {
      if (syncing) return;
      syncing = true;
      frames.forEach(function (frame) {
        if (frame !== source) {
          frame.scrollLeft = source.scrollLeft;
          frame.scrollTop = source.scrollTop;
        }
      });
      syncing = false;
    }
    frames.forEach(function (frame) {
      frame.addEventListener("scroll", function () { syncScroll(frame); }, { passive: true });
    });

    modeButtons.forEach(function (button) {
      button.addEventListener("click", function () { setMode(button.dataset.compareMode); });
    });
    range.addEventListener("input", setSplit);

    // In the slider, the picture itself is the handle: press anywhere on it and drag sideways.
    var views = root.querySelector(".compare-views");
    var dragging = null;
    function splitAt(event) {
      var rect = frames[0].getBoundingClientRect();
      if (!rect.width) return;
      var value = Math.round((event.clientX - rect.left) / rect.width * 100);
      range.value = String(Math.max(0, Math.min(100, value)));
      setSplit();
    }
    views.addEventListener("pointerdown", function (event) {
      if (root.dataset.mode !== "slider" || !event.target.closest(".compare-frame")) return;
      if (event.pointerType === "mouse" && event.button !== 0) return;
      if (event.pointerType === "touch" && zoom !== 0) return;  // zoomed, a finger pans the picture
      event.preventDefault();
      dragging = event.pointerId;
      views.setPointerCapture(event.pointerId);
      root.classList.add("is-dragging");
      splitAt(event);
    });
    views.addEventListener("pointermove", function (event) { if (event.pointerId === dragging) splitAt(event); });
    function stop(event) {
      if (event.pointerId !== dragging) return;
      dragging = null;
      root.classList.remove("is-dragging");
    }
    views.addEventListener("pointerup", stop);
    views.addEventListener("pointercancel", stop);
    zoomIn.addEventListener("click", function () { setZoom(zoom + 1); });
    zoomOut.addEventListener("click", function () { setZoom(zoom - 1); });
    zoomReset.addEventListener("click", function () { setZoom(0); });

    setSplit();
    setZoom(0);
    setMode(root.dataset.mode || "side");
    toolbar.hidden = false;
  }

  function start() {
    document.querySelectorAll("[data-compare]").forEach(init);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

/* vmgui call detail page: progressive enhancement only (without it the page still shows the
   ladder, the messages as <details>, the player, the graphs, the downloads and a share page).
   - ladder: clicking an arrow opens its message in the list (and the list marks the arrow);
   - audio: clicking (or arrow keys on) the waveform/spectrogram seeks the player; a playhead
     moves over both while playing; a player or graph that fails shows the server's reason;
   - share: the "Share…" link opens a <dialog>; the form is posted with fetch and the new link
     (and generated password) is shown once with copy buttons. */
"use strict";
(function () {
  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  // ---- copy buttons ---------------------------------------------------------------------
  $$(".js-only").forEach(function (el) { el.hidden = false; });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = $(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.value !== undefined ? source.value : source.textContent;
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(source, done); });
    } else {
      fallbackCopy(source, done);
    }
  });
  function fallbackCopy(source, done) {
    if (source.select) { source.select(); }
    try { if (document.execCommand("copy")) done(); } catch (e) { /* the text stays selected */ }
  }

  // ---- ladder ↔ messages ------------------------------------------------------------------
  var ladder = $("#ladder");
  function arrowOf(index) {
    return ladder ? $('g.arrow[data-index="' + index + '"]', ladder) : null;
  }
  function mark(index) {
    if (!ladder) return;
    $$("g.arrow.selected", ladder).forEach(function (g) { g.classList.remove("selected"); });
    var g = arrowOf(index);
    if (g) g.classList.add("selected");
  }
  function openMessage(index) {
    var details = document.getElementById("msg-" + index);
    if (!details) return;
    details.open = true;
    mark(index);
    details.scrollIntoView({ block: "nearest" });
    var summary = $("summary", details);
    if (summary) summary.focus({ preventScroll: true });
  }
  if (ladder) {
    ladder.addEventListener("click", function (event) {
      // an arrow is thin: a click anywhere on its row (inside the group's box) counts
      var g = event.target.closest("g.arrow") || $$("g.arrow", ladder).filter(function (a) {
        var r = a.getBoundingClientRect();
        return event.clientX >= r.left - 4 && event.clientX <= r.right + 4 &&
          event.clientY >= r.top - 4 && event.clientY <= r.bottom + 4;
      })[0];
      if (g) openMessage(g.getAttribute("data-index"));
    });
  }
  $$("#messages details").forEach(function (details) {
    details.addEventListener("toggle", function () {
      if (details.open) {
        mark(details.getAttribute("data-index"));
        var g = arrowOf(details.getAttribute("data-index"));
        if (g && ladder) {
          // bring the arrow into the ladder's own scroll box, not the page
          var box = ladder.getBoundingClientRect(), r = g.getBoundingClientRect();
          if (r.top < box.top || r.bottom > box.bottom) {
            ladder.scrollTop += r.top - box.top - box.height / 3;
          }
        }
      }
    });
  });

  // ---- media errors: show the server's reason ---------------------------------------------
  function reasonOf(url, fallback) {
    return fetch(url, { headers: { Range: "bytes=0-0" }, credentials: "same-origin" })
      .then(function (response) {
        if (response.ok) return fallback;
        return response.text().then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var reason = doc.getElementById("reason");
          return reason ? reason.textContent.trim() : fallback + " (HTTP " + response.status + ")";
        });
      })
      .catch(function () { return fallback; });
  }

  // ---- audio player and seekable graphs ------------------------------------------------------
  var player = $("#player");
  var seeks = $$(".seek");
  if (player) {
    player.addEventListener("error", function () {
      reasonOf(player.currentSrc || player.src, "the recording could not be played").then(function (text) {
        var box = $("#audio-error");
        box.textContent = "The recording could not be played: " + text;
        box.hidden = false;
      });
    });
  }
  seeks.forEach(function (box) {
    var img = $("img", box);
    img.addEventListener("error", function () {
      reasonOf(img.src, "the graph could not be drawn").then(function (text) {
        var p = document.createElement("p");
        p.className = "alert alert-error graph-error";
        p.setAttribute("role", "alert");
        p.textContent = text;
        box.replaceWith(p);
      });
    });
    if (!player) return;
    box.classList.add("seekable");
    box.tabIndex = 0;
    box.setAttribute("role", "slider");
    box.setAttribute("aria-label", "Playback position (" + (box.getAttribute("data-graph") === "S" ? "spectrogram" : "waveform") + ")");
    box.setAttribute("aria-valuemin", "0");
    box.setAttribute("aria-valuenow", "0");
    box.addEventListener("click", function (event) {
      var rect = img.getBoundingClientRect();
      var fraction = Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width));
      seekTo(fraction);
    });
    box.addEventListener("keydown", function (event) {
      var step = { ArrowLeft: -2, ArrowRight: 2, PageDown: -10, PageUp: 10 }[event.key];
      if (event.key === "Home") step = -Infinity;
      if (event.key === "End") step = Infinity;
      if (event.key === " " || event.key === "Enter") {
        event.preventDefault();
        if (player.paused) { player.play(); } else { player.pause(); }
        return;
      }
      if (step === undefined) return;
      event.preventDefault();
      withDuration(function (duration) {
        player.currentTime = Math.min(duration, Math.max(0, player.currentTime + step));
        update();
      });
    });
  });

  function withDuration(then) {
    if (isFinite(player.duration) && player.duration > 0) { then(player.duration); return; }
    player.addEventListener("loadedmetadata", function once() {
      player.removeEventListener("loadedmetadata", once);
      if (isFinite(player.duration)) then(player.duration);
    });
    if (player.readyState === 0) player.load();
  }
  function seekTo(fraction) {
    withDuration(function (duration) {
      player.currentTime = fraction * duration;
      update();
    });
  }
  function update() {
    if (!player || !isFinite(player.duration) || player.duration <= 0) return;
    var fraction = player.currentTime / player.duration;
    seeks.forEach(function (box) {
      var head = $(".playhead", box);
      if (head) {
        head.style.left = (fraction * 100).toFixed(3) + "%";
        head.classList.add("shown");
      }
      box.setAttribute("aria-valuemax", player.duration.toFixed(1));
      box.setAttribute("aria-valuenow", player.currentTime.toFixed(1));
      box.setAttribute("aria-valuetext", player.currentTime.toFixed(1) + " of " + player.duration.toFixed(1) + " seconds");
    });
  }
  if (player) {
    var frame = null;
    var tick = function () { update(); frame = player.paused ? null : requestAnimationFrame(tick); };
    player.addEventListener("play", function () { if (!frame) frame = requestAnimationFrame(tick); });
    ["timeupdate", "seeked", "loadedmetadata", "pause"].forEach(function (name) {
      player.addEventListener(name, update);
    });
  }

  // ---- share dialog -------------------------------------------------------------------------
  var dialog = $("#share-dialog");
  var opener = $("#share-open");
  if (dialog && opener && typeof dialog.showModal === "function") {
    var form = $("#share-form", dialog);
    var result = $("#share-result", dialog);
    var errors = $("#share-errors", dialog);
    var passwordField = $("#share-password-field", dialog);
    var syncPassword = function () {
      var kind = $('input[name="kind"]:checked', form);
      passwordField.hidden = !kind || kind.value !== "self_protected_link";
    };
    form.addEventListener("change", syncPassword);
    syncPassword();
    opener.addEventListener("click", function (event) {
      event.preventDefault();
      form.hidden = false;
      result.hidden = true;
      errors.hidden = true;
      dialog.showModal();
    });
    $$("[data-close]", dialog).forEach(function (b) {
      b.addEventListener("click", function () { dialog.close(); });
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var submit = $("#share-create", form);
      submit.disabled = true;
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) { return response.json(); })
        .then(function (body) {
          if (!body.ok) {
            errors.textContent = (body.errors || ["the link could not be created"]).join(" ");
            errors.hidden = false;
            return;
          }
          form.hidden = true;
          result.hidden = false;
          $("#share-url", result).value = body.url;
          $("#share-visit", result).href = body.url;
          $("#share-password-row", result).hidden = !body.password;
          $("#share-password", result).value = body.password || "";
          $("#share-expires", result).textContent =
            body.kind + " · valid until " + body.expires + (body.calls > 1 ? " · " + body.calls + " calls" : "");
          $("#share-url", result).select();
        })
        .catch(function () {
          errors.textContent = "The server did not answer; try again.";
          errors.hidden = false;
        })
        .then(function () { submit.disabled = false; });
    });
  }
})();

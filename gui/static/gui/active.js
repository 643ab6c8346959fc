/* Active calls (templates/gui/active/list.html): the table refreshes itself in place, the
   pause/resume forms post in the background, and live listening plays a call's audio through
   the Web Audio API about two seconds behind the call.

   Without this file the page still works: the forms post normally, <noscript> refreshes the
   page, and the Listen buttons stay hidden (live audio needs a script).

   Live listening: POST the row's listen URL (a click: the user gesture that lets the page
   make sound) → {listen_id, audio_url, stop_url}; GET audio_url every 500 ms → raw 8 kHz
   mono s16le PCM since the last poll (empty while there is none); each chunk is scheduled
   right after the previous one, the first LAG seconds ahead, so short network hiccups do not
   cut the sound. Stop: the button, leaving the page (a beacon to stop_url), or the server
   (call ended: 410; session gone: 404). The panel reports the seconds played in
   data-played-seconds (and data-scheduled-seconds). */
"use strict";
(function () {
  var root = document.getElementById("active-calls");
  if (!root) return;
  var csrf = root.getAttribute("data-csrf");
  var tableUrl = root.getAttribute("data-table-url");
  var every = parseInt(root.getAttribute("data-refresh-ms"), 10) || 3000;
  var holder = document.getElementById("active-table");
  var statusEl = document.getElementById("active-status");
  var panel = document.getElementById("listen-panel");
  var LAG = 2.0; // seconds behind the call
  var POLL_MS = 500;
  var MAX_FAILURES = 6; // consecutive failed polls (about 3 s) before giving up
  var listening = null; // the current live-listening session

  function say(text, bad) {
    statusEl.textContent = text || "";
    statusEl.className = bad ? "alert alert-error" : text ? "alert alert-success" : "";
  }

  function readJson(response) {
    return response.json().then(
      function (data) { return data; },
      function () { return { ok: false, error: "the server answered HTTP " + response.status }; }
    );
  }

  // --- the table ------------------------------------------------------------------------

  function reveal() {
    holder.querySelectorAll("[data-needs-js]").forEach(function (el) { el.hidden = false; });
    markListening();
  }

  // Which control had the keyboard focus, so that it keeps it when the table is swapped.
  function focusKey() {
    var el = document.activeElement;
    if (!el || !holder.contains(el)) return null;
    var row = el.closest("tr");
    var kind = ["listen", "pause", "unpause"].filter(function (c) { return el.classList.contains(c); })[0];
    return row && kind ? { row: row.id, kind: kind } : null;
  }

  function restoreFocus(key) {
    var row = key && document.getElementById(key.row);
    var el = row && (row.querySelector("." + key.kind) || row.querySelector("button"));
    if (el) el.focus();
  }

  var refreshing = false;
  var again = false;
  function refresh() {
    if (refreshing) { again = true; return; }
    if (document.hidden) return;
    refreshing = true;
    fetch(tableUrl, { credentials: "same-origin", cache: "no-store", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) {
        if (r.redirected || r.status === 403) { window.location.reload(); return null; }
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.text();
      })
      .then(function (html) {
        if (html === null) return;
        var key = focusKey();
        holder.innerHTML = html;
        reveal();
        restoreFocus(key);
        root.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function (e) { say("Could not refresh the list (" + e.message + "); retrying.", true); })
      .then(function () {
        refreshing = false;
        if (again) { again = false; refresh(); }
      });
  }
  setInterval(refresh, every);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) refresh(); });
  var note = document.getElementById("refresh-now");
  if (note) note.addEventListener("click", function (ev) { ev.preventDefault(); refresh(); });

  // --- pause / resume -------------------------------------------------------------------

  holder.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.classList.contains("pause-form")) return;
    ev.preventDefault();
    var button = form.querySelector("button");
    button.disabled = true;
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    })
      .then(function (r) { return readJson(r).then(function (d) { say(d.message || d.error, !r.ok); }); })
      .catch(function (e) { say("The request failed: " + e.message, true); })
      .then(function () { button.disabled = false; refresh(); });
  });

  // --- live listening -------------------------------------------------------------------

  if (!panel) { reveal(); return; }
  var whatEl = document.getElementById("listen-what");
  var stateEl = document.getElementById("listen-state");
  var playedEl = document.getElementById("listen-played");

  function setState(state, text) {
    panel.hidden = false;
    panel.setAttribute("data-state", state);
    stateEl.textContent = text;
  }

  function markListening() {
    holder.querySelectorAll("tr.listening").forEach(function (tr) { tr.classList.remove("listening"); });
    holder.querySelectorAll("button.listen").forEach(function (b) {
      b.textContent = "Listen";
      b.setAttribute("aria-pressed", "false");
    });
    if (!listening) return;
    var row = document.getElementById("call-" + listening.sensor + "-" + listening.ref);
    var button = row && row.querySelector("button.listen");
    if (!button) return;
    row.classList.add("listening");
    button.textContent = "Stop";
    button.setAttribute("aria-pressed", "true");
  }

  function beacon(url) {
    var body = new FormData();
    body.append("csrfmiddlewaretoken", csrf);
    if (navigator.sendBeacon && navigator.sendBeacon(url, body)) return;
    fetch(url, { method: "POST", body: body, credentials: "same-origin", keepalive: true });
  }

  function update(s) {
    var queued = Math.max(0, s.next - s.ctx.currentTime);
    var played = Math.max(0, s.scheduled - queued);
    panel.setAttribute("data-scheduled-seconds", s.scheduled.toFixed(2));
    panel.setAttribute("data-played-seconds", played.toFixed(2));
    playedEl.textContent = played.toFixed(1);
  }

  // End a session: tell the server (unless it already ended it), silence the audio now
  // (user stop) or after what is queued (the call ended).
  function end(s, message, serverEnded) {
    if (listening === s) listening = null;
    clearTimeout(s.timer);
    clearInterval(s.ticker);
    if (s.stopUrl && !serverEnded) beacon(s.stopUrl);
    s.stopUrl = null;
    var left = serverEnded ? Math.max(0, s.next - s.ctx.currentTime) : 0;
    setTimeout(function () { update(s); if (s.ctx.close) s.ctx.close(); }, left * 1000);
    update(s);
    setState("ended", message);
    markListening();
  }

  function play(s, buffer) {
    var n = buffer.byteLength >> 1;
    if (!n) {
      if (!s.scheduled) setState("listening", "Waiting for audio (the call may not be answered yet)…");
      return;
    }
    var view = new DataView(buffer);
    var audio = s.ctx.createBuffer(1, n, s.rate);
    var samples = audio.getChannelData(0);
    for (var i = 0; i < n; i++) samples[i] = view.getInt16(2 * i, true) / 32768;
    var now = s.ctx.currentTime;
    if (s.next < now + 0.05) {
      s.next = now + LAG; // the first chunk, or after a gap: start again LAG behind
    } else if (s.next > now + 3 * LAG) {
      return; // far behind the call (a stalled tab): drop this chunk to catch up
    }
    var source = s.ctx.createBufferSource();
    source.buffer = audio;
    source.connect(s.ctx.destination);
    source.start(s.next);
    s.next += n / s.rate;
    s.scheduled += n / s.rate;
    setState("listening", "Listening");
    update(s);
  }

  function poll(s) {
    if (listening !== s) return;
    fetch(s.audioUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.ok) return r.arrayBuffer().then(function (buffer) { s.failures = 0; play(s, buffer); });
        return readJson(r).then(function (d) {
          if (r.status === 502) throw new Error(d.error);
          end(s, d.error || "Listening ended (HTTP " + r.status + ").", true);
        });
      })
      .catch(function (e) {
        s.failures += 1;
        if (s.failures >= MAX_FAILURES) end(s, "Listening stopped: " + e.message, false);
        else setState("listening", "No audio from the sensor (" + e.message + "); retrying…");
      })
      .then(function () {
        if (listening === s) s.timer = setTimeout(function () { poll(s); }, POLL_MS);
      });
  }

  function start(button, row) {
    if (listening) end(listening, "Stopped.", false);
    var Context = window.AudioContext || window.webkitAudioContext;
    whatEl.textContent = button.getAttribute("data-label");
    if (!Context) { setState("ended", "This browser cannot play live audio (no Web Audio API)."); return; }
    var ctx = new Context(); // created in the click handler: the gesture allows sound
    if (ctx.resume) ctx.resume();
    var s = {
      ctx: ctx, ref: row.getAttribute("data-ref"), sensor: row.getAttribute("data-sensor-id"),
      rate: 8000, next: 0, scheduled: 0, failures: 0, timer: null, ticker: null,
      audioUrl: null, stopUrl: null
    };
    listening = s;
    setState("starting", "Starting…");
    update(s);
    markListening();
    fetch(button.getAttribute("data-listen-url"), {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "X-Requested-With": "fetch" }
    })
      .then(function (r) { return readJson(r); })
      .then(function (d) {
        if (listening !== s) { if (d.ok) beacon(d.stop_url); return; } // stopped meanwhile
        if (!d.ok) { end(s, d.error || "Listening could not start.", true); return; }
        s.audioUrl = d.audio_url;
        s.stopUrl = d.stop_url;
        s.rate = d.sample_rate || 8000;
        panel.setAttribute("data-listen-id", d.listen_id);
        setState("listening", "Waiting for audio…");
        s.ticker = setInterval(function () { update(s); }, 250);
        poll(s);
      })
      .catch(function (e) { end(s, "Listening could not start: " + e.message, true); });
  }

  holder.addEventListener("click", function (ev) {
    var button = ev.target.closest("button.listen");
    if (!button) return;
    var row = button.closest("tr");
    if (listening && listening.ref === row.getAttribute("data-ref") &&
        listening.sensor === row.getAttribute("data-sensor-id")) {
      end(listening, "Stopped.", false);
      return;
    }
    start(button, row);
  });
  document.getElementById("listen-stop").addEventListener("click", function () {
    if (listening) end(listening, "Stopped.", false);
  });
  function leaving() { if (listening) end(listening, "Stopped: the page was closed.", false); }
  window.addEventListener("pagehide", leaving);
  window.addEventListener("beforeunload", leaving);

  reveal();
})();

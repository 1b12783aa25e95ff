// The recording player (/recordings/<id>): the waveform of both channels drawn from the peaks the box
// computed (GET /api/v1/recordings/<id>/peaks: the page never decodes the WAV), play and pause, seek by
// click, keyboard or an event of the call, speed, and the supervisor's evaluation form.
"use strict";

(function () {
  const player = document.getElementById("player");
  if (!player) return;
  const { gettext: _ } = window.I18n;
  const id = player.dataset.id;
  // The record's length until the audio's own is known (a file a crash cut short is shorter).
  const recorded = parseFloat(player.dataset.duration) || 0;
  const total = () => (Number.isFinite(audio.duration) && audio.duration > 0 ? audio.duration : recorded);
  const audio = document.getElementById("audio");
  const canvas = document.getElementById("waveform");
  const playButton = document.getElementById("play");
  const position = document.getElementById("position");
  const status = document.getElementById("player-status");
  const unreachable = _("The box does not answer; check the network and try again.");
  const events = Array.from(document.querySelectorAll("#events [data-seek]"))
    .map((node) => ({ at: parseFloat(node.dataset.seek), kind: node.dataset.kind }));
  let peaks = null;

  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  const clock = (s) => {
    const whole = Math.max(0, Math.round(s));
    const m = Math.floor(whole / 60), sec = whole % 60;
    return m >= 60 ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, "0")}:${String(sec).padStart(2, "0")}`
      : `${m}:${String(sec).padStart(2, "0")}`;
  };
  const now = () => audio.currentTime || 0;

  // --- the waveform ------------------------------------------------------------------------------
  function draw() {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth, height = canvas.clientHeight;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const g = canvas.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    const duration = total();
    const played = duration ? (now() / duration) * width : 0;
    const lane = height / 2;
    g.fillStyle = css("--line");
    g.fillRect(0, lane - 0.5, width, 1);
    if (peaks) {
      const count = peaks.channels[0] ? peaks.channels[0].min.length : 0;
      peaks.channels.slice(0, 2).forEach((channel, c) => {
        const middle = lane * c + lane / 2, scale = (lane / 2 - 2) / 128;
        for (let x = 0; x < width; x++) {
          // Each pixel column shows the extremes of the stretches it covers.
          const from = Math.floor((x / width) * count), to = Math.max(from + 1, Math.floor(((x + 1) / width) * count));
          let lo = 0, hi = 0;
          for (let i = from; i < to && i < count; i++) {
            if (channel.min[i] < lo) lo = channel.min[i];
            if (channel.max[i] > hi) hi = channel.max[i];
          }
          g.fillStyle = x < played ? css("--accent") : c === 0 ? css("--teal") : css("--purple");
          g.fillRect(x, middle - hi * scale, 1, Math.max(1, (hi - lo) * scale));
        }
      });
    }
    if (duration) {
      g.fillStyle = css("--orange");
      events.forEach((e) => g.fillRect(Math.round((e.at / duration) * width), 0, 2, 8));
      g.fillStyle = css("--ink");
      g.fillRect(Math.min(width - 2, played), 0, 2, height);
    }
    canvas.setAttribute("aria-valuenow", String(Math.round(now())));
    canvas.setAttribute("aria-valuetext", clock(now()));
    position.textContent = clock(now());
  }

  async function loadPeaks() {
    status.textContent = _("Loading the waveform…");
    const answer = await window.Api.call("GET", `/api/v1/recordings/${encodeURIComponent(id)}/peaks`, undefined, unreachable);
    if (answer.ok) {
      peaks = answer.data;
      status.textContent = "";
    } else {
      status.textContent = answer.error;
    }
    draw();
  }

  // --- playing and seeking ------------------------------------------------------------------------
  function seek(seconds) {
    audio.currentTime = Math.min(Math.max(0, seconds), total());
    draw();
  }

  function toggle() {
    if (audio.paused) {
      audio.play().catch(() => { status.textContent = _("The recording cannot be played in this browser."); });
    } else {
      audio.pause();
    }
  }

  playButton.addEventListener("click", toggle);
  document.getElementById("back").addEventListener("click", () => seek(now() - 5));
  document.getElementById("forward").addEventListener("click", () => seek(now() + 5));
  document.getElementById("speed").addEventListener("change", (e) => {
    audio.playbackRate = parseFloat(e.target.value);
  });
  audio.addEventListener("play", () => {
    playButton.textContent = _("Pause");
    playButton.setAttribute("aria-pressed", "true");
    audio.playbackRate = parseFloat(document.getElementById("speed").value);
  });
  audio.addEventListener("pause", () => {
    playButton.textContent = _("Play");
    playButton.setAttribute("aria-pressed", "false");
  });
  audio.addEventListener("timeupdate", draw);
  audio.addEventListener("loadedmetadata", draw);
  audio.addEventListener("error", () => { status.textContent = _("The recording's audio could not be loaded."); });
  canvas.addEventListener("click", (e) => {
    const box = canvas.getBoundingClientRect();
    seek(((e.clientX - box.left) / box.width) * total());
  });
  canvas.addEventListener("keydown", (e) => {
    const steps = { ArrowLeft: -5, ArrowDown: -5, ArrowRight: 5, ArrowUp: 5, PageDown: -30, PageUp: 30 };
    if (e.key in steps) seek(now() + steps[e.key]);
    else if (e.key === "Home") seek(0);
    else if (e.key === "End") seek(total());
    else if (e.key === " " || e.key === "Enter") toggle();
    else return;
    e.preventDefault();
  });
  document.querySelectorAll("#events [data-seek]").forEach((button) => {
    button.addEventListener("click", () => {
      seek(parseFloat(button.dataset.seek));
      canvas.focus();
    });
  });
  window.addEventListener("resize", draw);
  loadPeaks();

  // --- the evaluation ------------------------------------------------------------------------------
  const form = document.getElementById("evaluate");
  if (!form) return;
  const error = document.getElementById("evaluate-error");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const scores = {};
    form.querySelectorAll("[data-criterion]").forEach((select) => {
      scores[select.dataset.criterion] = parseInt(select.value, 10);
    });
    const button = document.getElementById("evaluate-save");
    button.disabled = true;
    const answer = await window.Api.call("POST", form.dataset.url,
      { scores, comment: document.getElementById("evaluate-comment").value }, unreachable);
    button.disabled = false;
    if (!answer.ok) {
      error.textContent = answer.error;
      error.hidden = false;
      return;
    }
    // The page again, with the new evaluation in its list.
    window.location.hash = "evaluations";
    window.location.reload();
  });
})();

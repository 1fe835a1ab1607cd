/**
 * A replay as one self-contained HTML page: the replay JSON inline, a canvas, play/pause, a step
 * slider and a speed choice; no external URL of any kind. For headless-browser checks it sets
 * `document.title` and, once playback reaches the last frame, `window.__replayDone = true` (and
 * `data-replay-done="true"` on <body>). `#speed=N` in the URL plays N frames per tick.
 */
import type { Replay } from '../../domain/arena/replay';

/** JSON that is safe inside a <script> element: no "</script>", no "<!--", no U+2028/2029 surprises. */
function inlineJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

export function replayTitle(replay: Replay): string {
  return `${replay.environment} replay ${replay.match_id}: ${replay.agents.agent_1} vs ${replay.agents.agent_2}`;
}

const STYLE = `
body { margin: 0; background: #111; color: #eee; font: 14px system-ui, sans-serif; display: flex; flex-direction: column; align-items: center; }
h1 { font-size: 16px; font-weight: 600; margin: 12px; }
#scoreboard { font-size: 28px; font-variant-numeric: tabular-nums; margin: 4px; }
canvas { background: #000; border: 1px solid #444; max-width: 96vw; }
#controls { display: flex; gap: 8px; align-items: center; margin: 10px; }
#slider { width: min(600px, 60vw); }
#status { min-height: 1.4em; margin-bottom: 12px; color: #ccc; }
button, select { background: #333; color: #eee; border: 1px solid #555; padding: 4px 10px; }
`;

// Plain browser JavaScript, kept free of template-literal syntax so it can live in this string.
const SCRIPT = `
(function () {
  var replay = JSON.parse(document.getElementById('replay-data').textContent);
  var frames = replay.frames;
  var canvas = document.getElementById('field');
  var ctx = canvas.getContext('2d');
  var slider = document.getElementById('slider');
  var playButton = document.getElementById('play');
  var speedSelect = document.getElementById('speed');
  var stepLabel = document.getElementById('step');
  var scoreboard = document.getElementById('scoreboard');
  var status = document.getElementById('status');
  var hashSpeed = /speed=(\\d+)/.exec(location.hash);
  if (hashSpeed) {
    var option = document.createElement('option');
    option.value = hashSpeed[1];
    option.textContent = hashSpeed[1] + 'x';
    speedSelect.appendChild(option);
    speedSelect.value = hashSpeed[1];
  }
  slider.max = String(frames.length);
  // A timer rather than requestAnimationFrame: headless browsers and background tabs barely
  // run animation frames, and a replay must still reach its end there.
  var FRAME_MS = 1000 / 60;
  var position = 0; // 0 = before the first step, n = after frame n-1
  var playing = true;

  function stateAt(index) { return index === 0 ? replay.initial_state : frames[index - 1].state; }

  function drawPong(state) {
    var w = canvas.width, h = canvas.height, r = replay.rendering;
    var toX = function (x) { return x * w; };
    var toY = function (y) { return (1 - y) * h; }; // y grows upwards in the environment
    ctx.fillStyle = '#000'; ctx.fillRect(0, 0, w, h);
    ctx.strokeStyle = '#333'; ctx.setLineDash([8, 8]);
    ctx.beginPath(); ctx.moveTo(w / 2, 0); ctx.lineTo(w / 2, h); ctx.stroke(); ctx.setLineDash([]);
    var paddleH = r.paddleHeight * h, paddleW = 8;
    ctx.fillStyle = '#4fc3f7';
    ctx.fillRect(toX(r.paddleFaceX[0]) - paddleW, toY(state.paddles[0]) - paddleH / 2, paddleW, paddleH);
    ctx.fillStyle = '#ffb74d';
    ctx.fillRect(toX(r.paddleFaceX[1]), toY(state.paddles[1]) - paddleH / 2, paddleW, paddleH);
    ctx.fillStyle = '#fff';
    ctx.beginPath(); ctx.arc(toX(state.ball[0]), toY(state.ball[1]), Math.max(3, r.ballRadius * h), 0, 2 * Math.PI); ctx.fill();
  }

  function drawGeneric(state) {
    ctx.fillStyle = '#000'; ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = '#eee'; ctx.font = '14px monospace';
    ctx.fillText(JSON.stringify(state).slice(0, 120), 10, 24);
  }

  function resultText() {
    var text = replay.winner === 'draw' ? 'Draw' : 'Winner: ' + replay.agents[replay.winner] + ' (' + replay.winner + ')';
    replay.forfeits.forEach(function (f) { text += ' - ' + f.agent + ' forfeited (' + f.reason + '): ' + f.detail; });
    return text;
  }

  function render() {
    var state = stateAt(position);
    if (replay.environment === 'pong') drawPong(state); else drawGeneric(state);
    var score = state.score || [0, 0];
    scoreboard.textContent = score[0] + ' : ' + score[1];
    slider.value = String(position);
    stepLabel.textContent = 'step ' + position + ' / ' + frames.length;
    playButton.textContent = playing ? 'Pause' : 'Play';
    if (position >= frames.length) {
      status.textContent = resultText();
      if (!window.__replayDone) {
        window.__replayDone = true;
        document.body.setAttribute('data-replay-done', 'true');
      }
    } else {
      status.textContent = '';
    }
  }

  function tick() {
    if (playing) {
      position = Math.min(frames.length, position + Number(speedSelect.value));
      if (position >= frames.length) playing = false;
      render();
    }
    setTimeout(tick, FRAME_MS);
  }

  playButton.addEventListener('click', function () {
    if (position >= frames.length) position = 0;
    playing = !playing; render();
  });
  slider.addEventListener('input', function () { position = Number(slider.value); playing = false; render(); });
  render();
  setTimeout(tick, FRAME_MS);
})();
`;

export function renderReplayHtml(replay: Replay): string {
  const title = replayTitle(replay);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1 id="heading">${escapeHtml(title)}</h1>
<div id="scoreboard">0 : 0</div>
<canvas id="field" width="640" height="480"></canvas>
<div id="controls">
  <button id="play" type="button">Pause</button>
  <input id="slider" type="range" min="0" max="0" value="0" aria-label="step">
  <select id="speed" aria-label="speed"><option value="1">1x</option><option value="2">2x</option><option value="4">4x</option><option value="8">8x</option></select>
  <span id="step"></span>
</div>
<div id="status"></div>
<script type="application/json" id="replay-data">${inlineJson(replay)}</script>
<script>document.title = ${inlineJson(title)};</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

import type { Replay } from '../../../src/domain/arena/replay';
import { renderReplayHtml } from '../../../src/workers/matches/replay-html';

const replay: Replay = {
  match_id: 'match-1',
  environment: 'pong',
  seed: 1,
  agents: { agent_1: '</script><script>alert(1)</script>', agent_2: 'rival & co' },
  total_steps: 2,
  winner: 'agent_1',
  scores: [1, 0],
  forfeits: [],
  rendering: { paddleHeight: 0.2, paddleFaceX: [0.04, 0.96], ballRadius: 0.012, targetScore: 1 },
  initial_state: { ball: [0.5, 0.5], paddles: [0.5, 0.5], score: [0, 0] },
  frames: [
    { step: 0, observation: [0.5, 0.5, 0, 0, 0.5, 0.5], action_1: 1, action_2: 0, reward_1: 0, reward_2: 0, state: { ball: [0.6, 0.5], paddles: [0.53, 0.5], score: [0, 0] } },
    { step: 1, observation: [0.6, 0.5, 0, 0, 0.53, 0.5], action_1: 0, action_2: 0, reward_1: 1, reward_2: -1, state: { ball: [0.5, 0.5], paddles: [0.53, 0.5], score: [1, 0] } },
  ],
};

describe('replay html', () => {
  const html = renderReplayHtml(replay);

  it('is self-contained: no external URL, scripts and styles inline', () => {
    expect(html).not.toMatch(/(src|href)\s*=/i);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).toContain('<canvas id="field"');
    expect(html).toContain("default-src 'none'");
  });

  it('embeds the replay so that it parses back, and agent names cannot break out of the script', () => {
    const data = /<script type="application\/json" id="replay-data">([\s\S]*?)<\/script>/.exec(html);
    expect(data).not.toBeNull();
    expect(JSON.parse(data![1]!)).toEqual(replay);
    expect(html.match(/<script/g)).toHaveLength(3);
    expect(html).toContain('&#60;/script&#62;&#60;script&#62;alert(1)');
  });

  it('sets the title and signals the end of playback for headless checks', () => {
    expect(html).toContain('document.title = ');
    expect(html).toContain('window.__replayDone = true');
    expect(html).toMatch(/<input id="slider" type="range"/);
    expect(html).toMatch(/<button id="play"/);
  });
});

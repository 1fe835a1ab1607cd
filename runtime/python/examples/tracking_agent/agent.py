"""Example pong agent: moves its paddle towards the ball.

Observation (each agent sees itself on the left, see docs/environments.md):
    [ball_x, ball_y, ball_vx, ball_vy, own_paddle_y, opponent_paddle_y]
Actions: 0 = stay, 1 = up, 2 = down (y grows upwards).
"""

STAY, UP, DOWN = 0, 1, 2
# Do not chase the ball's exact centre: the paddle moves 0.03 per step, so a dead zone
# smaller than that would make it jitter around the ball.
DEAD_ZONE = 0.02


class Agent:
    def __init__(self, observation_space, action_space):
        self.n_actions = action_space["n"]

    def act(self, observation):
        ball_y = observation[1]
        own_y = observation[4]
        if ball_y > own_y + DEAD_ZONE:
            return UP
        if ball_y < own_y - DEAD_ZONE:
            return DOWN
        return STAY

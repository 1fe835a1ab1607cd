"""Example agent for any discrete environment: picks a uniformly random action.

The runner seeds Python's `random` module for every match, so a match against this agent
replays identically from its seed.
"""
import random


class Agent:
    def __init__(self, observation_space, action_space):
        self.n_actions = action_space["n"]

    def reset(self):
        self.steps = 0

    def act(self, observation):
        self.steps += 1
        return random.randrange(self.n_actions)

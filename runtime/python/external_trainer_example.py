#!/usr/bin/env python3
"""An external trainer speaking the LapXcel trainer protocol (docs/training.md). Stdlib only.

Environments the server cannot simulate itself (e.g. AssettoCorsaEnv-v1) are trained by a
command configured per environment. The server starts that command like this one:

    external_trainer_example.py '<job spec JSON>'      (or the spec on stdin, or '-')

and reads one JSON object per line from its stdout:

    {"type": "progress", "timestep": 2000, "total_timesteps": 10000, "episode_reward": -3.1,
     "episode_length": 200, "fps": 5400.0, "loss": null}
    ...
    {"type": "completed", "timestep": 10000, "artifact_path": "/abs/path/policy-<job>.json",
     "mean_return": -1.2}
    or {"type": "failed", "reason": "..."}  (exit status 1)
    or {"type": "cancelled", "timestep": 4000}  after SIGTERM/SIGINT (exit status 0)

Anything else the trainer wants to say goes to stderr. This example really trains, but on a toy
stand-in for a simulator: a car on a straight lane that must steer back to the centre line. Its
policy is linear (steering = tanh(w . [offset, heading] + b)) and is improved by basic random
search: perturb the weights both ways, keep the direction that drives better. Replace LaneEnv
with a connection to the real simulator and keep everything else.
"""
import base64
import json
import math
import os
import random
import signal
import struct
import sys
import time

EPISODE_STEPS = 100
TIME_STEP_S = 0.1
SPEED_MS = 10.0
HALF_LANE_M = 2.0
PERTURBATIONS_PER_UPDATE = 4
NOISE = 0.3
STEP_SIZE = 0.2


class LaneEnv:
    """Observation [lateral offset / half lane, heading error rad]; action [steering in -1..1].

    Reward per step is 1 - |offset| / half lane; the episode ends after EPISODE_STEPS steps or
    when the car leaves the lane.
    """

    def __init__(self, seed):
        rng = random.Random(seed)
        self.offset_m = rng.uniform(-1.5, 1.5)
        self.heading_rad = rng.uniform(-0.3, 0.3)
        self.steps = 0

    def observation(self):
        return [self.offset_m / HALF_LANE_M, self.heading_rad]

    def step(self, steering):
        steering = max(-1.0, min(1.0, steering))
        self.heading_rad += SPEED_MS * math.tan(0.3 * steering) / 2.6 * TIME_STEP_S
        self.offset_m += SPEED_MS * math.sin(self.heading_rad) * TIME_STEP_S
        self.steps += 1
        off_lane = abs(self.offset_m) > HALF_LANE_M
        reward = 0.0 if off_lane else 1.0 - abs(self.offset_m) / HALF_LANE_M
        return self.observation(), reward, off_lane or self.steps >= EPISODE_STEPS


def act(weights, observation):
    return math.tanh(weights[0] * observation[0] + weights[1] * observation[1] + weights[2])


def rollout(weights, seed):
    env = LaneEnv(seed)
    observation, total, length, done = env.observation(), 0.0, 0, False
    while not done:
        observation, reward, done = env.step(act(weights, observation))
        total += reward
        length += 1
    return total, length


def emit(message):
    sys.stdout.write(json.dumps(message, allow_nan=False) + "\n")
    sys.stdout.flush()


def read_spec(argv):
    text = sys.stdin.read() if len(argv) < 2 or argv[1] == "-" else argv[1]
    spec = json.loads(text)
    for key in ("job_id", "algorithm", "environment", "total_timesteps", "artifact_dir"):
        if key not in spec:
            raise ValueError("job spec lacks %s" % key)
    if not isinstance(spec["total_timesteps"], int) or spec["total_timesteps"] < 1:
        raise ValueError("total_timesteps must be a positive integer")
    return spec


def write_artifact(spec, weights, mean_return, timestep):
    """The artefact in the lapxcel-policy format: a 2-in, 2-out linear network whose outputs are
    the steering mean and a raw log std (unused when acting deterministically)."""
    # Per layer: weights row-major [outputs][inputs], then biases; float64 little-endian.
    parameters = [weights[0], weights[1], 0.0, 0.0, weights[2], 0.0]
    artifact = {
        "format": "lapxcel-policy",
        "version": 1,
        "algorithm": spec["algorithm"],
        "environment": spec["environment"],
        "observation_size": 2,
        "action": {"kind": "continuous", "size": 1, "head": "tanh_gaussian"},
        "network": {
            "layer_sizes": [2, 2],
            "hidden_activation": "relu",
            "parameters_base64": base64.b64encode(struct.pack("<6d", *parameters)).decode("ascii"),
        },
        "training": {
            "job_id": spec["job_id"],
            "seed": spec.get("seed", 0),
            "total_timesteps": spec["total_timesteps"],
            "trained_timesteps": timestep,
            "hyperparameters": spec.get("hyperparameters", {}),
            "environment_options": spec.get("environment_options", {}),
            "evaluation": {"episodes": 10, "mean_return": mean_return},
        },
    }
    directory = os.path.abspath(spec["artifact_dir"])
    os.makedirs(directory, exist_ok=True)
    safe_id = "".join(c if c.isalnum() or c in "_.-" else "_" for c in spec["job_id"])
    path = os.path.join(directory, "policy-%s.json" % safe_id)
    with open(path + ".partial", "w", encoding="utf-8") as handle:
        json.dump(artifact, handle)
    os.replace(path + ".partial", path)
    return path


def train(spec, should_stop):
    total = spec["total_timesteps"]
    interval = spec.get("progress_interval_timesteps") or max(1, total // 100)
    rng = random.Random(spec.get("seed", 0))
    weights = [0.0, 0.0, 0.0]
    timestep, next_report, episode = 0, interval, 0
    window_returns, window_lengths = [], []
    last_report_time, last_report_step = time.monotonic(), 0
    while timestep < total:
        if should_stop():
            return "cancelled", timestep, weights
        episode += 1
        update = [0.0, 0.0, 0.0]
        for _ in range(PERTURBATIONS_PER_UPDATE):
            delta = [rng.gauss(0.0, 1.0) for _ in weights]
            seed = rng.randrange(2 ** 31)
            plus, plus_length = rollout([w + NOISE * d for w, d in zip(weights, delta)], seed)
            minus, minus_length = rollout([w - NOISE * d for w, d in zip(weights, delta)], seed)
            update = [u + (plus - minus) * d for u, d in zip(update, delta)]
            timestep += plus_length + minus_length
            window_returns += [plus, minus]
            window_lengths += [plus_length, minus_length]
        scale = STEP_SIZE / (PERTURBATIONS_PER_UPDATE * EPISODE_STEPS)
        weights = [w + scale * u for w, u in zip(weights, update)]
        if timestep >= next_report or timestep >= total:
            now = time.monotonic()
            emit({
                "type": "progress",
                "timestep": min(timestep, total),
                "total_timesteps": total,
                "episode_reward": sum(window_returns) / len(window_returns),
                "episode_length": sum(window_lengths) / len(window_lengths),
                "fps": (timestep - last_report_step) / max(now - last_report_time, 1e-3),
                "loss": None,
            })
            window_returns, window_lengths = [], []
            last_report_time, last_report_step = now, timestep
            next_report = timestep + interval
    return "completed", min(timestep, total), weights


def main(argv):
    try:
        spec = read_spec(argv)
    except (ValueError, TypeError) as error:
        emit({"type": "failed", "reason": "invalid job spec: %s" % error})
        return 2
    stop = {"requested": False}

    def request_stop(_signal, _frame):
        stop["requested"] = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        status, timestep, weights = train(spec, lambda: stop["requested"])
        if status == "cancelled":
            emit({"type": "cancelled", "timestep": timestep})
            return 0
        evaluation_seeds = range(1_000_000, 1_000_010)
        mean_return = sum(rollout(weights, seed)[0] for seed in evaluation_seeds) / len(evaluation_seeds)
        path = write_artifact(spec, weights, mean_return, timestep)
        emit({"type": "completed", "timestep": timestep, "artifact_path": path, "mean_return": mean_return})
        return 0
    except Exception as error:  # noqa: BLE001 - every failure becomes a protocol line
        emit({"type": "failed", "reason": "%s: %s" % (type(error).__name__, error)})
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

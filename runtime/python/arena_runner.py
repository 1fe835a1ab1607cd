#!/usr/bin/env python3
"""Runs one arena agent and speaks the agent protocol with the match runner.

Usage: arena_runner.py AGENT_DIR

The agent is the class ``Agent`` in AGENT_DIR/agent.py:

    class Agent:
        def __init__(self, observation_space, action_space): ...   # or: def __init__(self): ...
        def act(self, observation): return action
        def reset(self): ...   # optional, called once before the first step
        def close(self): ...   # optional, called when the match ends

Protocol (JSON lines and, in version 2, binary step and action frames; docs/agent-protocol.md
is the reference):
    host -> runner  {"type": "init", "protocol_version": 2, "environment": "pong", "player": 0,
                     "seed": 123, "observation_space": {...}, "action_space": {...}}
    runner -> host  {"type": "ready", "agent_class": "Agent"}
    host -> runner  step frame: 0x01, step (uint32), n (uint16), n float64 (little-endian)
                    (version 1: {"type": "step", "step": 0, "observation": [0.5, ...]})
    runner -> host  action frame: 0x02, step (uint32), action (int32) for an int action in range,
                    else {"type": "action", "step": 0, "action": [0.1, 0.2]}
                    (version 1: always the JSON line)
    host -> runner  {"type": "close"}
    runner -> host  {"type": "error", "phase": "init" | "act" | "action" | "protocol", "message": "..."}
                    (then the runner exits with status 1)
"""
import importlib.util
import inspect
import json
import os
import random
import struct
import sys
import traceback

PROTOCOL_VERSIONS = (1, 2)
BINARY_FRAMES_FROM = 2
STEP_FRAME_TAG = 0x01
STEP_FRAME_HEADER = struct.Struct("<IH")
STEP_FRAME_BYTES_BEFORE_VALUES = 1 + STEP_FRAME_HEADER.size
ACTION_FRAME = struct.Struct("<BIi")
ACTION_FRAME_TAG = 0x02
INT32_MIN, INT32_MAX = -(2 ** 31), 2 ** 31 - 1
TRACEBACK_CHARS = 2000


def take_protocol_channels():
    """Keeps private copies of stdin/stdout for the protocol and gives the agent harmless ones.

    After this, fd 0 reads /dev/null and fd 1 writes to stderr, so print(), input() or a C
    extension writing to stdout cannot eat or corrupt protocol messages; whatever the agent
    prints ends in the match log. os.dup() makes non-inheritable fds, so subprocesses the agent
    starts do not get the protocol channels either. Both are plain fds: the runner reads and
    writes them with os.readv and os.write, no buffered file objects in between.
    """
    protocol_in = os.dup(0)
    protocol_out = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull, "r", encoding="utf-8")
    sys.stdout = sys.stderr
    return protocol_in, protocol_out


class Channel:
    """Writes each whole answer with one os.write: no buffered writer to flush, and nothing left
    waiting in a buffer once it is sent. What the host sends is read by an Inbox."""

    def __init__(self, protocol_in_fd, protocol_out_fd):
        self.protocol_in_fd = protocol_in_fd
        self.protocol_out_fd = protocol_out_fd

    def send(self, message):
        self.send_line(json.dumps(message, allow_nan=False, separators=(",", ":")).encode("utf-8") + b"\n")

    def send_line(self, data):
        written = os.write(self.protocol_out_fd, data)
        if written == len(data):
            return
        view = memoryview(data)[written:]
        while view:
            view = view[os.write(self.protocol_out_fd, view):]

    def fail(self, phase, message, with_traceback=False):
        detail = message
        if with_traceback:
            detail = message + "\n" + traceback.format_exc()[-TRACEBACK_CHARS:]
        sys.stderr.write("arena_runner: %s error: %s\n" % (phase, detail))
        sys.stderr.flush()
        self.send({"type": "error", "phase": phase, "message": message})
        sys.exit(1)


def describe_exception(error):
    return "%s: %s" % (type(error).__name__, error)


def load_agent_class(agent_dir):
    path = os.path.join(agent_dir, "agent.py")
    # The agent may import its own modules (helpers, model code) that live next to agent.py.
    sys.path.insert(0, agent_dir)
    spec = importlib.util.spec_from_file_location("agent", path)
    if spec is None or spec.loader is None:
        raise ImportError("cannot load %s" % path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["agent"] = module
    spec.loader.exec_module(module)
    agent_class = getattr(module, "Agent", None)
    if not isinstance(agent_class, type):
        raise TypeError("agent.py defines no class named Agent")
    return agent_class


SPACE_NAMES = ("observation_space", "action_space")
CONSTRUCTION_RULE = (
    "the runner creates the agent as Agent(observation_space, action_space) or as Agent(), "
    "so __init__ must accept both spaces (def __init__(self, observation_space, action_space)) "
    "or nothing besides self (def __init__(self))"
)


def construct_agent(agent_class, observation_space, action_space):
    """Creates the agent the way its __init__ is written, decided from its signature.

    Both spaces are passed when __init__ can take them: by name when it names both parameters
    (so their order does not matter), else by position. Otherwise Agent() when __init__ needs
    nothing. Deciding before the call keeps a TypeError raised inside __init__ the agent's own.
    """
    try:
        signature = inspect.signature(agent_class)
    except (TypeError, ValueError):
        return agent_class(observation_space, action_space)  # no signature to read (C type): the documented form
    spaces = {"observation_space": observation_space, "action_space": action_space}
    if all(name in signature.parameters for name in SPACE_NAMES):
        attempts = [((), spaces)]
    else:
        attempts = [((observation_space, action_space), {})]
    attempts.append(((), {}))
    for args, kwargs in attempts:
        try:
            signature.bind(*args, **kwargs)
        except TypeError:
            continue
        return agent_class(*args, **kwargs)
    raise TypeError("Agent%s does not fit: %s" % (signature, CONSTRUCTION_RULE))


def to_json_action(action):
    """numpy scalars and arrays become plain numbers and lists; anything else is sent as is."""
    if hasattr(action, "tolist"):
        action = action.tolist()
    return action


def action_line(step, action):
    """The answer line, as json.dumps would write it; raises TypeError/ValueError if the action
    cannot travel as JSON. A plain int (the usual discrete action) is formatted directly."""
    if type(action) is int and type(step) is int:
        return b'{"type":"action","step":%d,"action":%d}\n' % (step, action)
    action = to_json_action(action)
    text = json.dumps({"type": "action", "step": step, "action": action}, allow_nan=False, separators=(",", ":"))
    return text.encode("utf-8") + b"\n"


INBOX_BYTES = 64 * 1024


class Inbox:
    """What the host sent and the runner has not handled yet, in one buffer that is reused.

    A step frame usually arrives whole in one read, so a step costs one os.readv into this
    buffer and two struct.unpack_from on it: no bytes object per read, no slicing. Messages cut
    by the pipe, several messages in one read and lines longer than the buffer are handled too
    (slower, rarely). `start`..`end` is the unread part of `buffer`.
    """

    def __init__(self, fd):
        self.fd = fd
        self.buffer = bytearray(INBOX_BYTES)
        # Prebuilt argument of os.readv for the usual case: an empty inbox read from its start.
        self.whole = [memoryview(self.buffer)]
        self.start = 0
        self.end = 0
        self.layouts = {}

    def fill(self):
        """Reads what the pipe holds after the unread bytes; False at end of file."""
        if self.start == self.end:
            self.start = self.end = 0
            count = os.readv(self.fd, self.whole)
            self.end = count
            return count > 0
        unread = self.end - self.start
        if self.start > 0:
            self.buffer[:unread] = self.buffer[self.start:self.end]
            self.start, self.end = 0, unread
        if self.end == len(self.buffer):
            self.whole = []  # release the export: a bytearray with a memoryview on it cannot grow
            self.buffer.extend(bytes(len(self.buffer)))
            self.whole = [memoryview(self.buffer)]
        with memoryview(self.buffer) as view:
            count = os.readv(self.fd, [view[self.end:]])
        self.end += count
        return count > 0

    def has(self, count):
        """True once `count` unread bytes are in the buffer (reading more as needed); False at end of file."""
        while self.end - self.start < count:
            if not self.fill():
                return False
        return True

    def first_byte(self):
        """The first byte of the next message, or None at end of file."""
        if self.start == self.end and not self.fill():
            return None
        return self.buffer[self.start]

    def step_frame(self):
        """(step, observation as a list of floats) of the step frame that starts here, or None if cut short."""
        if not self.has(STEP_FRAME_BYTES_BEFORE_VALUES):
            return None
        step, count = STEP_FRAME_HEADER.unpack_from(self.buffer, self.start + 1)
        layout = self.layouts.get(count)
        if layout is None:
            layout = self.layouts[count] = struct.Struct("<%dd" % count)
        if not self.has(STEP_FRAME_BYTES_BEFORE_VALUES + layout.size):
            return None
        observation = list(layout.unpack_from(self.buffer, self.start + STEP_FRAME_BYTES_BEFORE_VALUES))
        self.start += STEP_FRAME_BYTES_BEFORE_VALUES + layout.size
        return step, observation

    def line(self):
        """The next line with its newline (without one when the host closed the pipe mid-line)."""
        searched = self.start
        while True:
            newline = self.buffer.find(b"\n", searched, self.end)
            if newline != -1:
                text = bytes(self.buffer[self.start:newline + 1])
                self.start = newline + 1
                return text
            searched_bytes = self.end - self.start  # fill() may move the unread bytes to the front
            if not self.fill():
                text = bytes(self.buffer[self.start:self.end])
                self.start = self.end
                return text
            searched = self.start + searched_bytes


# The action frame of every int answer is packed into this one buffer: os.write has copied it
# into the pipe before the next answer is packed.
ACTION_FRAME_BUFFER = bytearray(ACTION_FRAME.size)


def answer_line(step, action, binary):
    """The answer: an action frame for an int action that fits (version 2; a numpy integer
    counts, bool does not), else the JSON line."""
    if binary and type(step) is int:
        if type(action) is not int and hasattr(action, "tolist"):
            action = action.tolist()
        if type(action) is int and INT32_MIN <= action <= INT32_MAX:
            ACTION_FRAME.pack_into(ACTION_FRAME_BUFFER, 0, ACTION_FRAME_TAG, step, action)
            return ACTION_FRAME_BUFFER
    return action_line(step, action)


def play_step(channel, agent, step, observation, binary):
    if agent is None:
        channel.fail("protocol", "step before init")
    try:
        action = agent.act(observation)
    except BaseException as error:  # noqa: BLE001
        channel.fail("act", describe_exception(error), with_traceback=True)
    try:
        answer = answer_line(step, action, binary)
    except (TypeError, ValueError) as error:
        channel.fail("action", "act() returned %.200r, which is not a JSON action (%s)" % (action, error))
    channel.send_line(answer)


def serve(channel, agent_dir):
    agent = None
    binary = False
    inbox = Inbox(channel.protocol_in_fd)
    while True:
        first = inbox.first_byte()
        if first is None:
            return
        if first == STEP_FRAME_TAG:
            frame = inbox.step_frame()
            if frame is None:
                channel.fail("protocol", "host sent a step frame cut short")
            play_step(channel, agent, frame[0], frame[1], binary)
            continue
        line = inbox.line()
        try:
            message = json.loads(line)
        except ValueError:
            channel.fail("protocol", "host sent a line that is not JSON")
        kind = message.get("type") if isinstance(message, dict) else None

        if kind == "init":
            version = message.get("protocol_version")
            if version not in PROTOCOL_VERSIONS:
                channel.fail("protocol", "unsupported protocol version %r" % version)
            binary = version >= BINARY_FRAMES_FROM
            # Seeded so that a match between agents that use `random` replays identically.
            random.seed(message.get("seed", 0))
            try:
                agent_class = load_agent_class(agent_dir)
                agent = construct_agent(agent_class, message["observation_space"], message["action_space"])
                if callable(getattr(agent, "reset", None)):
                    agent.reset()
            except BaseException as error:  # noqa: BLE001 - any failure of agent code is reported
                if isinstance(error, SystemExit) and error.code == 0:
                    error = RuntimeError("agent exited during init")
                channel.fail("init", describe_exception(error), with_traceback=True)
            channel.send({"type": "ready", "agent_class": type(agent).__name__})

        elif kind == "step":
            play_step(channel, agent, message.get("step"), message.get("observation"), binary)

        elif kind == "close":
            close = getattr(agent, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:  # noqa: BLE001 - the match is over; a failing close changes nothing
                    traceback.print_exc()
            return

        else:
            channel.fail("protocol", "unknown message type %r" % (kind,))


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: arena_runner.py AGENT_DIR\n")
        return 2
    channel = Channel(*take_protocol_channels())
    serve(channel, os.path.abspath(sys.argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

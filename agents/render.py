"""Episode videos as animated GIFs, written with NumPy and zlib-free LZW (no imaging
library needed): `record_episode` plays one greedy episode of an agent and `write_gif`
saves its frames."""
from __future__ import annotations

import os
import struct

import numpy as np

__all__ = ["write_gif", "record_episode", "greedy_actions"]


def greedy_actions(agent, obs: np.ndarray) -> np.ndarray:
    """The greedy actions of any of our agents for a batch of observations."""
    if agent.name == "pg":
        return agent.act(obs, greedy=True)
    if agent.name == "dqn":
        return agent.graph.act(obs)
    if agent.name == "ppo":
        logits, _ = agent.policy_step(np.asarray(obs, np.float32))
        return np.asarray(logits).argmax(axis=1)
    raise ValueError(f"no greedy policy known for agent {agent.name!r}")


def record_episode(agent, max_steps: int = 1000) -> tuple[list, float]:
    """Frames (RGB uint8) of one greedy episode of `agent` in lane 0 of a 1-lane vector env,
    and its return. The env must have ``render(lane)``."""
    from actorflow.envs import make_vector
    c = agent.config
    env = make_vector(c.env_id, 1, seed=c.seed + 20_000, **dict(getattr(c, "env_kwargs", {})))
    if not hasattr(env, "render"):
        raise ValueError(f"env {c.env_id!r} cannot render frames")
    obs = env.reset()
    frames, total = [env.render(0)], 0.0
    for _ in range(max_steps):
        obs, reward, terminated, truncated, info = env.step(greedy_actions(agent, obs))
        total += float(reward[0])
        if terminated[0] or truncated[0]:
            break
        frames.append(env.render(0))
    return frames, total


def write_gif(path: str, frames, fps: int = 30) -> None:
    """Writes RGB uint8 frames [H, W, 3] (all the same size) as a looping GIF.

    Colours: the frames' own (up to 256 distinct), else a 6x6x6 colour cube.

    Raises:
        ValueError: no frames, or frames of different sizes.
    """
    if not frames:
        raise ValueError("write_gif: no frames")
    stack = np.stack([np.asarray(f, np.uint8) for f in frames])
    n, h, w, _ = stack.shape
    flat = stack.reshape(-1, 3)
    colours, index = np.unique(flat, axis=0, return_inverse=True)
    if len(colours) > 256:
        q = (flat.astype(np.int32) * 6 // 256)
        index = (q[:, 0] * 36 + q[:, 1] * 6 + q[:, 2])
        levels = (np.arange(6) * 255 // 5).astype(np.uint8)
        colours = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(-1, 3)
    palette = np.zeros((256, 3), np.uint8)
    palette[:len(colours)] = colours
    index = index.reshape(n, h * w).astype(np.uint8)
    delay = max(1, round(100 / fps))
    out = bytearray(b"GIF89a" + struct.pack("<HHBBB", w, h, 0xF7, 0, 0) + palette.tobytes())
    out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"  # loop forever
    for frame in index:
        out += b"\x21\xf9\x04\x00" + struct.pack("<H", delay) + b"\x00\x00"
        out += b"\x2c" + struct.pack("<HHHHB", 0, 0, w, h, 0)
        out += bytes([8]) + _sub_blocks(_lzw(frame.tobytes(), 8)) + b"\x00"
    out += b"\x3b"
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(out)
    os.replace(tmp, path)


def _lzw(data: bytes, min_size: int) -> bytes:
    """GIF's variable-width LZW of `data` (palette indices), codes packed LSB first."""
    clear, end = 1 << min_size, (1 << min_size) + 1
    table = {bytes([i]): i for i in range(clear)}
    size, next_code = min_size + 1, end + 1
    bits, nbits, out = 0, 0, bytearray()

    def emit(code: int) -> None:
        nonlocal bits, nbits
        bits |= code << nbits
        nbits += size
        while nbits >= 8:
            out.append(bits & 0xFF)
            bits >>= 8
            nbits -= 8

    emit(clear)
    word = b""
    for byte in data:
        cand = word + bytes([byte])
        if cand in table:
            word = cand
            continue
        emit(table[word])
        if next_code < 4096:
            table[cand] = next_code
            next_code += 1
            if next_code > (1 << size) and size < 12:
                size += 1
        else:  # table full: start over
            emit(clear)
            table = {bytes([i]): i for i in range(clear)}
            size, next_code = min_size + 1, end + 1
        word = bytes([byte])
    if word:
        emit(table[word])
    emit(end)
    if nbits:
        out.append(bits & 0xFF)
    return bytes(out)


def _sub_blocks(data: bytes) -> bytes:
    return b"".join(bytes([len(data[i:i + 255])]) + data[i:i + 255]
                    for i in range(0, len(data), 255))

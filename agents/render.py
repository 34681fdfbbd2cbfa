"""Episode videos as animated GIFs, written with NumPy and zlib-free LZW (no imaging
library needed): `record_episode` plays one greedy episode of an agent and `write_gif`
saves its frames."""
from __future__ import annotations

import os
import struct

import numpy as np

__all__ = ["write_gif", "check_gif_path", "record_episode", "greedy_actions"]


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


def check_gif_path(path: str) -> None:
    """Checks, before any frame is rendered, that a GIF can be written at `path`: a name
    ending in .gif whose folder exists and is writable (an existing file must be writable).

    Raises:
        ValueError: the suffix is not .gif, or `path` names a folder.
        OSError: the folder is missing or not writable, or the file is not writable.
    """
    if not path.lower().endswith(".gif"):
        raise ValueError("the output must be a .gif file")
    if os.path.isdir(path):
        raise ValueError("that is a folder; give a file name ending in .gif")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):  # write_gif creates <path>.tmp there
        raise PermissionError(f"folder {folder} is not writable")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise PermissionError("the file is not writable")


def write_gif(path: str, frames, fps: int = 30) -> None:
    """Writes RGB uint8 frames [H, W, 3] (all the same size) as a looping GIF.

    Colours: the frames' own (up to 256 distinct), else a 6x6x6 colour cube. Each frame after
    the first stores only the rectangle of pixels that changed (drawn over the previous
    frame), so an episode whose background stands still encodes in a fraction of the time.

    Raises:
        ValueError: no frames, frames of different sizes or not [H, W, 3].
    """
    if not frames:
        raise ValueError("write_gif: no frames")
    first = np.asarray(frames[0])
    if first.ndim != 3 or first.shape[2] != 3:
        raise ValueError(f"write_gif: frames must be [H, W, 3], got {list(first.shape)}")
    h, w, _ = first.shape
    patches, prev = [], None  # (left, top, packed colours [ph, pw])
    for i, frame in enumerate(frames):
        frame = np.asarray(frame, np.uint8)
        if frame.shape != first.shape:
            raise ValueError(f"write_gif: frame {i} is {list(frame.shape)}, frame 0 is "
                             f"{list(first.shape)}")
        packed = _pack_rgb(frame)
        patches.append(_changed_patch(prev, packed))
        prev = packed
    colours = np.unique(np.concatenate([p.reshape(-1) for _, _, p in patches]))
    cube = len(colours) > 256
    if cube:  # quantise to 6 levels per channel
        levels = (np.arange(6) * 255 // 5).astype(np.uint32)
        colours = (levels[:, None, None] << 16 | levels[None, :, None] << 8
                   | levels[None, None, :]).reshape(-1)
    bits = max(2, int(len(colours) - 1).bit_length())  # GIF's LZW needs >= 2-bit codes
    palette = np.zeros((1 << bits, 3), np.uint8)
    palette[:len(colours)] = _unpack_rgb(colours)
    delay = max(1, round(100 / fps))
    out = bytearray(b"GIF89a" + struct.pack("<HHBBB", w, h, 0xF0 | (bits - 1), 0, 0)
                    + palette.tobytes())
    out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"  # loop forever
    for left, top, patch in patches:
        index = _cube_index(patch) if cube else np.searchsorted(colours, patch)
        ph, pw = patch.shape
        # Graphic control: disposal 1 (keep this frame under the next one's patch).
        out += b"\x21\xf9\x04\x04" + struct.pack("<H", delay) + b"\x00\x00"
        out += b"\x2c" + struct.pack("<HHHHB", left, top, pw, ph, 0)
        out += bytes([bits]) + _sub_blocks(_lzw(index.astype(np.uint8).tobytes(), bits))
        out += b"\x00"
    out += b"\x3b"
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(out)
    os.replace(tmp, path)


def _pack_rgb(frame: np.ndarray) -> np.ndarray:
    """[H, W, 3] uint8 -> [H, W] uint32 0xRRGGBB."""
    rgb = frame.astype(np.uint32)
    return rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2]


def _unpack_rgb(packed: np.ndarray) -> np.ndarray:
    return np.stack([packed >> 16, packed >> 8 & 0xFF, packed & 0xFF], -1).astype(np.uint8)


def _cube_index(packed: np.ndarray) -> np.ndarray:
    """Indices into the 6x6x6 colour cube of packed colours."""
    q = _unpack_rgb(packed).astype(np.int32) * 6 // 256
    return q[..., 0] * 36 + q[..., 1] * 6 + q[..., 2]


def _changed_patch(prev: np.ndarray | None, packed: np.ndarray) -> tuple[int, int, np.ndarray]:
    """(left, top, pixels) of the smallest rectangle holding every pixel of `packed` that
    differs from `prev` (all of it for the first frame; one pixel for a repeated frame)."""
    if prev is None:
        return 0, 0, packed
    changed = prev != packed
    rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
    if rows.size == 0:  # GIF frames are at least one pixel
        return 0, 0, packed[:1, :1]
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    return int(left), int(top), packed[top:bottom, left:right]


def _lzw(data: bytes, min_size: int) -> bytes:
    """GIF's variable-width LZW of `data` (palette indices), codes packed LSB first.

    The table maps (prefix code << 8 | next byte) to a code: int keys, no string building.
    """
    clear, end = 1 << min_size, (1 << min_size) + 1
    table: dict[int, int] = {}
    size, next_code = min_size + 1, end + 1
    bits, nbits, out = clear, size, bytearray()  # the clear code, already emitted
    if not data:
        code = None
    else:
        code = data[0]
        for byte in data[1:]:
            key = code << 8 | byte
            known = table.get(key)
            if known is not None:
                code = known
                continue
            bits |= code << nbits
            nbits += size
            while nbits >= 8:
                out.append(bits & 0xFF)
                bits >>= 8
                nbits -= 8
            if next_code < 4096:
                table[key] = next_code
                next_code += 1
                if next_code > (1 << size) and size < 12:
                    size += 1
            else:  # table full: clear it and start over
                bits |= clear << nbits
                nbits += size
                table.clear()
                size, next_code = min_size + 1, end + 1
            code = byte
    for last in ((end,) if code is None else (code, end)):
        bits |= last << nbits
        nbits += size
        while nbits >= 8:
            out.append(bits & 0xFF)
            bits >>= 8
            nbits -= 8
    if nbits:
        out.append(bits & 0xFF)
    return bytes(out)


def _sub_blocks(data: bytes) -> bytes:
    return b"".join(bytes([len(data[i:i + 255])]) + data[i:i + 255]
                    for i in range(0, len(data), 255))

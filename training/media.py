"""An episode of a trained policy as a GIF (an MLflow artifact of every finished run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def episode_gif(
    scenario: str, config: Any, model: Any, path: Path, seed: int = 0, max_frames: int = 200
) -> Path:
    """Run one episode with the (seeded, sampled) policy on one field and save its frames as a GIF."""
    from env.render import render_rgb, save_animation
    from env.rollout import run_episodes
    from training.evaluate import policy_callable

    import torch

    torch.manual_seed(seed)
    frames: list[np.ndarray] = []

    def record(sim: Any) -> None:
        if len(frames) < max_frames:
            frames.append(render_rgb(sim, 0))

    run_episodes(scenario, config, policy_callable(model), num_fields=1, seed=seed, on_step=record)
    save_animation(frames, path)
    return Path(path)

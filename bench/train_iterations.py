"""Time PPO iterations of one profile stage in whichever SwarmOps tree is first on PYTHONPATH.

Used to compare training throughput across git revisions, including ones older than
`swarmops bench sizing` (the API used here, ``training.train.build_env/build_model``, is the same
since the first profiles). Prints one JSON line. Alternate the revisions yourself, e.g.:

    git worktree add /tmp/old de55e80
    for tree in /tmp/old "$PWD"; do
      (cd "$tree" && PYTHONPATH="$tree" python "$OLDPWD/bench/train_iterations.py" default 3 3)
    done
"""
from __future__ import annotations

import json
import os
import sys
import time


def main(argv: list[str]) -> int:
    """argv: profile, curriculum stage index, timed iterations (after one warm-up iteration)."""
    from training.config import load_profile
    from training.train import build_env, build_model, resolve_device, set_threads

    if len(argv) != 3:
        print("usage: train_iterations.py PROFILE STAGE ITERATIONS", file=sys.stderr)
        return 2
    name, stage, iterations = argv[0], int(argv[1]), int(argv[2])
    profile = load_profile(name)
    set_threads(profile)
    vec_env = build_env("recon", profile, stage, profile.seed)
    model = build_model(profile, vec_env, resolve_device(profile.device))
    rollout = profile.num_agents * profile.ppo.n_steps
    model.learn(rollout)  # warm-up: allocations and first calls stay out of the timing
    t0, c0 = time.perf_counter(), time.process_time()
    model.learn(iterations * rollout, reset_num_timesteps=False)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    steps = iterations * rollout
    print(json.dumps({"rows": profile.num_agents, "agent_steps": steps, "seconds": round(wall, 3),
                      "cpu_seconds": round(cpu, 3), "agent_steps_per_s": round(steps / wall),
                      "load_average": round(os.getloadavg()[0], 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

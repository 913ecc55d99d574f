"""The masked-actions policy: a move into a blocked cell or a release that cannot deliver is never
sampled (training and evaluation use the same distribution), the mask is read from the simulator's own
observation, and a saved model loads."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch as th

from env.config import FieldConfig
from env.core import COMPASS_FEATURES, SwarmSim
from env.scenarios import DOWN, HOVER, LEFT, RIGHT, UP, WATER
from training.policy import NEIGHBOUR_OF_MOVE, MaskedMovesPolicy, blocked_moves, detours_home, masked_actions

pytestmark = pytest.mark.unit


def _sim() -> SwarmSim:
    """Dense obstacles after a few random steps: many drones have blocked neighbours."""
    sim = SwarmSim("recon", FieldConfig(width=10, height=10, n_drones=4, obstacle_density=0.3), 8, seed=3)
    sim.reset()
    rng = np.random.default_rng(0)
    for _ in range(5):
        sim.step(rng.integers(0, 5, sim.B * sim.N))
    return sim


def test_the_mask_is_exactly_the_moves_the_simulator_refuses() -> None:
    """A masked move is one the simulator turns into a bump (the drone stays), and no other."""
    sim = _sim()
    obs = sim.observe(np.arange(sim.B))
    mask = blocked_moves(th.as_tensor(obs), 5).numpy()
    assert mask.any() and not mask[:, HOVER].any()
    for action in (UP, DOWN, LEFT, RIGHT):
        before = sim.cell.copy()
        target = before + sim.move_delta[action]
        refused = (sim.packed[target + sim.field_off[:, None]] & 1) != 0  # BIT_BLOCKED
        assert (mask[:, action] == refused.ravel()).all(), action


@pytest.mark.parametrize("planned", [True, False])
def test_a_release_is_masked_exactly_when_the_water_is_not_the_drones_to_give(
        planned: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Watering: releasing is allowed only with water in the tank on a cell whose water is the drone's
    to give: with the plan (layout v8) the water its sortie plans on its next stop, without it (v7)
    any the cell still needs. An allowed release always delivers (one drone per cell here); without
    the plan a release is masked exactly when it would not."""
    if not planned:
        monkeypatch.setattr(SwarmSim, "PLANNED_WORK", ())
    sim = SwarmSim("watering", FieldConfig(width=8, height=8, n_drones=1, n_plants=30, tank_capacity=2), 64,
                   seed=4)
    sim.reset()
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(40):
        obs = sim.observe(np.arange(sim.B))
        masked = masked_actions(th.as_tensor(obs), 6).numpy()[:, WATER]
        on_stop = ((sim.cell == sim.book.stop) & (sim.tank > 0)).ravel()
        delivered = sim.counters["delivered"].copy()
        sim.step(np.full(sim.B, WATER))
        would_deliver = (sim.counters["delivered"] - delivered) > 0
        assert (would_deliver[~masked]).all()
        assert (masked == ~(on_stop if planned else would_deliver)).all()
        seen |= set(masked.tolist())
        # move on (no release): half the drones along their compass (to their sortie's next plant)
        obs = sim.observe(np.arange(sim.B))
        bits = obs[:, -COMPASS_FEATURES:-1] > 0.5
        shown = UP + np.argmax(bits + rng.random(bits.shape), axis=1)
        sim.step(np.where(bits.any(axis=1) & (rng.random(sim.B) < 0.5), shown, rng.integers(0, 5, sim.B)))
    assert seen == {True, False}
    assert not masked_actions(th.as_tensor(obs), 5).numpy()[:, HOVER].any()  # recon: 5 actions, no release


def test_an_empty_tank_away_from_the_base_may_only_take_a_shortest_way_home() -> None:
    """Watering: with an empty tank away from the base, the allowed actions are exactly the moves to a
    neighbour nearer the base (the simulator's BFS distance); any other drone is not restricted."""
    sim = SwarmSim("watering", FieldConfig(width=10, height=10, n_drones=3, n_plants=40, tank_capacity=1,
                                           obstacle_density=0.2), 32, seed=5)
    sim.reset()
    rng = np.random.default_rng(1)
    homebound_rows = 0
    for _ in range(30):
        obs = sim.observe(np.arange(sim.B))
        mask = detours_home(th.as_tensor(obs), 6).numpy()
        g = (sim.cell + sim.field_off[:, None]).ravel()
        here = sim.dist[g]
        homebound = (sim.tank.ravel() == 0) & (here > 0)
        for action in (UP, DOWN, LEFT, RIGHT):
            nearer = sim.dist[g + sim.move_delta[action]] < here
            assert (~mask[:, action] == (~homebound | nearer)).all(), action
        assert (mask[:, HOVER] == homebound).all() and (mask[:, WATER] == homebound).all()
        assert (~masked_actions(th.as_tensor(obs), 6).numpy()).any(axis=1).all(), "a row with no action left"
        homebound_rows += int(homebound.sum())
        sim.step(np.where(rng.random(sim.B * sim.N) < 0.3, WATER, rng.integers(0, 5, sim.B * sim.N)))
    assert homebound_rows > 50
    assert not masked_actions(th.as_tensor(obs), 5).numpy()[:, HOVER].any()  # recon: never restricted


def _blocked_row() -> np.ndarray:
    """256 copies of one drone's observation that has at least one blocked neighbour."""
    obs = _sim().observe(np.arange(8))
    row = obs[blocked_moves(th.as_tensor(obs), 5).numpy().any(1)][:1]
    return np.repeat(row, 256, axis=0)


def test_blocked_moves_are_never_sampled_and_saved_models_load(tmp_path: Path) -> None:
    from stable_baselines3 import PPO

    from env.sb3_vec_env import SwarmVecEnv

    venv = SwarmVecEnv("recon", FieldConfig(width=8, height=8, n_drones=2), 4, seed=0)
    model = PPO(MaskedMovesPolicy, venv, n_steps=8, batch_size=16, seed=0, device="cpu")
    obs = _blocked_row()
    blocked = [a for a in (UP, DOWN, LEFT, RIGHT) if obs[0, NEIGHBOUR_OF_MOVE[a]] > 0.5]
    actions, _ = model.predict(obs, deterministic=False)
    assert not set(actions.tolist()) & set(blocked)
    _, log_prob, _ = model.policy.evaluate_actions(th.as_tensor(obs[:1]), th.as_tensor([blocked[0]]))
    assert log_prob.item() < -1e6  # PPO's ratio for a blocked move is zero: no gradient spent on it
    model.save(tmp_path / "m.zip")
    loaded = PPO.load(tmp_path / "m.zip", device="cpu")
    assert isinstance(loaded.policy, MaskedMovesPolicy)
    assert not set(loaded.predict(obs, deterministic=False)[0].tolist()) & set(blocked)


def test_acting_temperature_sharpens_acting_only_and_is_saved_with_the_model(tmp_path: Path) -> None:
    """predict (evaluation, gate, missions) samples from logits / T; training's forward and
    evaluate_actions keep T = 1 (PPO's ratios); a saved model acts at its temperature after loading."""
    from stable_baselines3 import PPO

    from env.sb3_vec_env import SwarmVecEnv

    venv = SwarmVecEnv("recon", FieldConfig(width=10, height=10, n_drones=4, obstacle_density=0.3), 8, seed=0)
    model = PPO(MaskedMovesPolicy, venv, n_steps=8, batch_size=16, seed=0, device="cpu",
                policy_kwargs={"acting_temperature": 0.25})
    policy = model.policy
    obs = th.as_tensor(_sim().observe(np.arange(8)))
    with th.no_grad():
        acting = policy.get_distribution(obs).distribution.probs
        training = policy.evaluate_actions(obs, th.zeros(len(obs), dtype=th.long))[1]
        collecting = policy(obs)[2]
        plain = PPO(MaskedMovesPolicy, venv, n_steps=8, batch_size=16, seed=0, device="cpu").policy
        plain.load_state_dict(policy.state_dict())
        untempered = plain.get_distribution(obs).distribution.logits
        assert th.allclose(acting, th.softmax(untempered / 0.25, 1), atol=1e-6)
        assert not th.allclose(acting, th.softmax(untempered, 1), atol=1e-3)
        assert th.allclose(training, plain.evaluate_actions(obs, th.zeros(len(obs), dtype=th.long))[1])
        assert collecting.shape == (len(obs),)
    model.save(tmp_path / "m.zip")
    loaded = PPO.load(tmp_path / "m.zip", device="cpu")
    assert loaded.policy.acting_temperature == 0.25
    assert plain.acting_temperature == 1.0
    with pytest.raises(ValueError, match="acting_temperature=0"):
        PPO(MaskedMovesPolicy, venv, n_steps=8, batch_size=16, device="cpu",
            policy_kwargs={"acting_temperature": 0})


def test_the_compass_prior_adds_to_the_logits_of_the_compass_moves_only(tmp_path: Path) -> None:
    """With compass_prior c, a move the compass shows has c more logit than the same network without
    the prior gives it, every other action the same (acting, training and collecting alike), and a
    saved model keeps c."""
    from stable_baselines3 import PPO

    from env.core import COMPASS_FEATURES, OBS_DIM
    from env.sb3_vec_env import SwarmVecEnv

    venv = SwarmVecEnv("recon", FieldConfig(width=10, height=10, n_drones=4, obstacle_density=0.3), 8, seed=0)
    model = PPO(MaskedMovesPolicy, venv, n_steps=8, batch_size=16, seed=0, device="cpu",
                policy_kwargs={"compass_prior": 2.0})
    plain = PPO(MaskedMovesPolicy, venv, n_steps=8, batch_size=16, seed=0, device="cpu").policy
    plain.load_state_dict(model.policy.state_dict())
    obs = th.as_tensor(_sim().observe(np.arange(8)))
    shown = obs[:, OBS_DIM - COMPASS_FEATURES:OBS_DIM - 1] > 0.5
    assert shown.any() and (~shown).any()
    with th.no_grad():
        with_prior = model.policy.get_distribution(obs).distribution.logits
        without = plain.get_distribution(obs).distribution.logits
        allowed = ~masked_actions(obs, 5)
        # logits are normalised (log-probabilities): compare differences to the hover action
        gain = (with_prior - with_prior[:, :1]) - (without - without[:, :1])
        moves = gain[:, UP:RIGHT + 1][allowed[:, UP:RIGHT + 1]]
        assert th.allclose(moves, 2.0 * shown[allowed[:, UP:RIGHT + 1]].float(), atol=1e-4)
        actions = th.full((len(obs),), UP, dtype=th.long)
        rows = allowed[:, UP] & allowed[:, HOVER]
        hover = actions * 0
        lp = model.policy.evaluate_actions(obs, actions)[1] - model.policy.evaluate_actions(obs, hover)[1]
        lp_plain = plain.evaluate_actions(obs, actions)[1] - plain.evaluate_actions(obs, hover)[1]
        assert th.allclose((lp - lp_plain)[rows], 2.0 * shown[rows, 0].float(), atol=1e-4)
    model.save(tmp_path / "m.zip")
    assert PPO.load(tmp_path / "m.zip", device="cpu").policy.compass_prior == 2.0
    with pytest.raises(ValueError, match="compass_prior=-1"):
        PPO(MaskedMovesPolicy, venv, n_steps=8, batch_size=16, device="cpu",
            policy_kwargs={"compass_prior": -1})


@pytest.mark.parametrize(("radius", "hemmed"), [(0, False), (1, False), (2, False), (0, True), (1, True)])
def test_move_gains_read_from_the_window_match_the_simulators(radius: int, hemmed: bool) -> None:
    """training.policy.move_gains (from the observation) equals SwarmSim.move_gains (from the maps)
    for every move that is not blocked, on fields part-sensed by random moves; hemmed too (each cell
    weighted by its neighbours with nothing to sense, which must all lie in the window)."""
    from training.policy import move_gains

    sim = SwarmSim("recon", FieldConfig(width=12, height=9, n_drones=4, obstacle_density=0.25,
                                        sensor_radius=radius), 6, seed=1)
    rng = np.random.default_rng(1)
    checked = 0
    for _ in range(8):
        obs = th.as_tensor(sim.observe(np.arange(sim.B)))
        from_window = move_gains(obs, radius, hemmed).numpy()
        from_maps = sim.move_gains(np.arange(sim.B), hemmed).reshape(-1, 4)
        free = ~blocked_moves(obs, 5)[:, UP:RIGHT + 1].numpy()
        np.testing.assert_array_equal(from_window[free], from_maps[free])
        checked += int((from_maps[free] > 0).sum())
        sim.step(rng.integers(0, 5, sim.num_rows))
    assert checked > 50
    limit = 1 if hemmed else 2
    with pytest.raises(ValueError, match=f"radius={limit + 1}: allowed 0..{limit}"):
        move_gains(obs, limit + 1, hemmed)


@pytest.mark.parametrize("weight", ["cells", "hemmed"])
def test_the_gain_prior_adds_per_new_cell_to_shown_moves_and_is_saved(tmp_path: Path, weight: str) -> None:
    """With gain_prior g (and compass_prior c), a shown move has c + g x its gain (gain_weight: plain
    cells, or hemmed ones, which count more wherever a new cell has a sensed or blocked neighbour)
    more logit than the same network without priors gives it; a move the compass does not show gets
    nothing. A saved model keeps the weighting (without the keyword: plain cells, as models saved
    before it); an unknown weighting, or a radius whose square does not fit the window, is refused."""
    from stable_baselines3 import PPO

    from env.core import COMPASS_FEATURES, OBS_DIM
    from env.sb3_vec_env import SwarmVecEnv
    from training.policy import move_gains

    venv = SwarmVecEnv("recon", FieldConfig(width=10, height=10, n_drones=4, obstacle_density=0.3), 8, seed=0)
    hemmed = weight == "hemmed"
    kwargs = {"compass_prior": 2.0, "gain_prior": 0.5, "gain_radius": 1,
              **({"gain_weight": weight} if hemmed else {})}  # cells: the keyword's default
    model = PPO(MaskedMovesPolicy, venv, n_steps=8, batch_size=16, seed=0, device="cpu", policy_kwargs=kwargs)
    plain = PPO(MaskedMovesPolicy, venv, n_steps=8, batch_size=16, seed=0, device="cpu").policy
    plain.load_state_dict(model.policy.state_dict())
    obs = th.as_tensor(_sim().observe(np.arange(8)))
    shown = (obs[:, OBS_DIM - COMPASS_FEATURES:OBS_DIM - 1] > 0.5).float()
    gains = move_gains(obs, 1, hemmed)
    assert (gains * shown).sum() > 0 and (gains * (1 - shown)).sum() > 0
    assert (gains * shown > move_gains(obs, 1) * shown).any() == hemmed
    with th.no_grad():
        with_prior = model.policy.get_distribution(obs).distribution.logits
        without = plain.get_distribution(obs).distribution.logits
        allowed = ~masked_actions(obs, 5)[:, UP:RIGHT + 1]
        bonus = ((with_prior - with_prior[:, :1]) - (without - without[:, :1]))[:, UP:RIGHT + 1]
        assert th.allclose(bonus[allowed], (shown * (2.0 + 0.5 * gains))[allowed], atol=1e-4)
    model.save(tmp_path / "m.zip")
    loaded = PPO.load(tmp_path / "m.zip", device="cpu").policy
    assert (loaded.gain_prior, loaded.gain_radius, loaded.gain_weight) == (0.5, 1, weight)
    limit = 1 if hemmed else 2
    for bad, message in (({"gain_weight": "area"}, "gain_weight='area': allowed: cells, hemmed"),
                         ({"gain_radius": limit + 1}, f"gain_radius={limit + 1}: allowed: 0..{limit} ")):
        with pytest.raises(ValueError, match=message):
            PPO(MaskedMovesPolicy, venv, n_steps=8, batch_size=16, device="cpu",
                policy_kwargs={**kwargs, **bad})


def test_the_masked_distribution_is_the_unmasked_one_renormalised_over_allowed_actions() -> None:
    """The policy builds its distribution straight from masked logits (no unmasked one first, no
    argument checks); it must still be SB3's distribution restricted to the allowed actions."""
    from stable_baselines3 import PPO

    from env.sb3_vec_env import SwarmVecEnv

    venv = SwarmVecEnv("recon", FieldConfig(width=10, height=10, n_drones=4, obstacle_density=0.3), 8, seed=0)
    policy = PPO(MaskedMovesPolicy, venv, n_steps=8, batch_size=16, seed=0, device="cpu").policy
    sim = _sim()
    obs = th.as_tensor(sim.observe(np.arange(sim.B)))
    allowed = ~masked_actions(obs, 5)
    assert (~allowed).any() and allowed.any(dim=1).all()
    with th.no_grad():
        features = policy.extract_features(obs, policy.pi_features_extractor)
        latent_pi = policy.mlp_extractor.forward_actor(features)
        plain = policy._get_action_dist_from_latent(latent_pi).distribution.probs
        masked = policy.get_distribution(obs).distribution.probs
    expected = th.where(allowed, plain, th.zeros_like(plain))
    expected = expected / expected.sum(dim=1, keepdim=True)
    assert th.allclose(masked, expected, atol=1e-6)


def test_the_masked_policy_refuses_a_non_discrete_action_space() -> None:
    """The mask builds a Categorical: any other action space is refused at construction, not mis-sampled."""
    from gymnasium import spaces

    obs_space = spaces.Box(0.0, 1.0, (10,), np.float32)
    with pytest.raises(TypeError, match="Discrete action space"):
        MaskedMovesPolicy(obs_space, spaces.MultiDiscrete([5, 5]), lambda _: 1e-3)


@pytest.mark.parametrize("activation, layer", [("tanh", th.nn.Tanh), ("relu", th.nn.ReLU)])
def test_the_profile_picks_the_hidden_activation(activation: str, layer: type) -> None:
    from training.config import load_profile
    from training.train import build_env, build_model

    profile = load_profile("smoke", overrides=[f"ppo.activation={activation}"])
    model = build_model(profile, build_env("recon", profile, 0, profile.seed), "cpu")
    kinds = {type(m) for m in model.policy.mlp_extractor.modules()}
    assert layer in kinds and ({th.nn.Tanh, th.nn.ReLU} - {layer}).isdisjoint(kinds)


def test_policy_overrides_replace_the_profile_nets_for_benchmarks() -> None:
    """bench/policy_nets.py times other nets through build_model's policy_overrides."""
    from training.config import load_profile
    from training.train import build_env, build_model

    profile = load_profile("smoke")
    env = build_env("recon", profile, 0, profile.seed)
    model = build_model(profile, env, "cpu", {"net_arch": {"pi": [16], "vf": [8]}})
    widths = [m.out_features for m in model.policy.mlp_extractor.modules() if isinstance(m, th.nn.Linear)]
    assert sorted(widths) == [8, 16]
    assert isinstance(model.policy, MaskedMovesPolicy)


def test_the_release_prior_adds_to_the_release_where_water_is_the_drones_to_give(tmp_path: Path) -> None:
    """Watering: with release_prior r, the release has r more logit than the same network gives it
    without the prior on the rows whose own feature 11 shows water that is the drone's to give here
    (layout v8: planned by its sortie), every other logit the same; a saved model keeps r."""
    from stable_baselines3 import PPO

    from env.sb3_vec_env import SwarmVecEnv
    from training.policy import NEED_HERE_INDEX

    cfg = FieldConfig(width=8, height=8, n_drones=1, n_plants=30, tank_capacity=2)
    venv = SwarmVecEnv("watering", cfg, 8, seed=0)
    model = PPO(MaskedMovesPolicy, venv, n_steps=8, batch_size=16, seed=0, device="cpu",
                policy_kwargs={"release_prior": 3.0})
    plain = PPO(MaskedMovesPolicy, venv, n_steps=8, batch_size=16, seed=0, device="cpu").policy
    plain.load_state_dict(model.policy.state_dict())
    obs = th.as_tensor(SwarmSim("watering", cfg, 64, seed=4).observe(np.arange(64)))
    obs[::2, NEED_HERE_INDEX] = 1 / 7  # half the rows: one unit planned here (the tank is full)
    mine = obs[:, NEED_HERE_INDEX] > 0
    allowed = ~masked_actions(obs, 6)
    with th.no_grad():
        logits = model.policy.get_distribution(obs).distribution.logits
        gain = logits - plain.get_distribution(obs).distribution.logits
        gain = gain - gain[:, :1]  # logits are normalised: compare differences to the hover action
    assert mine.any() and (~mine).any() and allowed[mine, WATER].all()
    assert th.allclose(gain[mine, WATER], th.full((int(mine.sum()),), 3.0), atol=1e-4)
    assert th.allclose(gain[:, :WATER][allowed[:, :WATER]], th.tensor(0.0), atol=1e-4)
    model.save(tmp_path / "m.zip")
    assert PPO.load(tmp_path / "m.zip", device="cpu").policy.release_prior == 3.0
    with pytest.raises(ValueError, match="release_prior=-1"):
        PPO(MaskedMovesPolicy, venv, n_steps=8, batch_size=16, device="cpu",
            policy_kwargs={"release_prior": -1})

"""Which policy drives a phase: a registered PPO model (``@champion`` by default) or the heuristic.

A model that is missing from the registry (or whose store is absent) is not an error for a
mission: the phase falls back to the scenario's heuristic and the report carries a warning.
An explicit model URI that cannot be loaded is an error, because the person asked for it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from mission.settings import CHAMPION, HEURISTIC

log = logging.getLogger(__name__)
ActFn = Callable[[np.ndarray], np.ndarray]


class PolicyError(RuntimeError):
    """An explicitly requested model cannot be found or loaded."""


@dataclass
class ResolvedPolicy:
    """The policy that will actually run a phase."""

    scenario: str
    label: str
    """What ran, for people: ``heuristic (sectors)`` or ``models:/swarmops-recon-ppo/3``."""
    act: str | ActFn
    """A baseline name understood by env, or ``obs -> actions``."""
    is_heuristic: bool
    warning: str | None = None


def model_name(scenario: str) -> str:
    """Registry name of a scenario's PPO model (training.registry is the one home of the rule)."""
    from training.registry import model_name as registry_name

    return registry_name(scenario)


def heuristic_name(scenario: str) -> str:
    """The env baseline that is the scenario's heuristic (env.scenarios is the one home of the fact)."""
    from env.scenarios import get_scenario

    return get_scenario(scenario).heuristic


def heuristic(scenario: str, warning: str | None = None) -> ResolvedPolicy:
    """The scenario's heuristic as a resolved policy."""
    name = heuristic_name(scenario)
    return ResolvedPolicy(scenario, f"heuristic ({name})", name, True, warning)


def _tracking_uri() -> str:
    from training.tracking import tracking_uri

    return tracking_uri()


def registry_problem() -> str | None:
    """Why the model registry cannot be asked (None when it can).

    A missing embedded SQLite file means nothing was ever registered; it is checked first because
    opening it would create and migrate a store (slow, and a side effect a lookup must not have).
    A database store gets training's fast reachability probe instead of MLflow's long retries.
    """
    from training.tracking import TrackingError, check_tracking_uri

    uri = _tracking_uri()
    if uri.startswith("sqlite:///"):
        path = Path(uri[len("sqlite:///"):])
        return None if path.is_file() else f"no model registry at {path}"
    try:
        check_tracking_uri(uri)
    except TrackingError as exc:
        return str(exc)
    return None


def registry_available() -> bool:
    """True when the model registry can be asked."""
    return registry_problem() is None


def _client() -> Any:
    import mlflow
    from mlflow.tracking import MlflowClient

    uri = _tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def load_model_act(uri: str, scenario: str) -> ActFn:
    """Download a registered model (``models:/...``) and wrap its SB3 PPO as ``obs -> actions``.

    PolicyError when it holds no model.zip, or one that cannot be read or does not fit the simulator
    (training.registry.load_model: a model trained before a change of env's observation layout would
    otherwise fail deep inside SB3, or run on misread inputs if the sizes happened to match)."""
    import mlflow

    from training.errors import CheckpointError
    from training.evaluate import policy_callable
    from training.registry import load_model

    _client()  # points mlflow at the store
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
    zips = [local] if local.is_file() else sorted(local.rglob("*.zip"))
    if not zips:
        raise PolicyError(f"{uri} holds no stable-baselines3 .zip model")
    try:
        model = load_model(zips[0], scenario)
    except CheckpointError as exc:  # IncompatibleModel included
        raise PolicyError(str(exc).replace(str(zips[0]), uri)) from None
    # Sampled actions, as training evaluates them (argmax makes drones that see the same thing move
    # together and collide forever); run_phase seeds torch so a run is reproducible.
    return policy_callable(model)


def resolve_policy(scenario: str, spec: str) -> ResolvedPolicy:
    """Turn a policy setting into what runs; ``champion`` falls back to the heuristic with a warning."""
    if spec == HEURISTIC:
        return heuristic(scenario)
    uri = f"models:/{model_name(scenario)}@champion" if spec == CHAMPION else spec
    if spec == CHAMPION:
        problem = registry_problem()
        if problem:
            return heuristic(scenario, f"{uri}: {problem}; "
                                       f"{scenario} falls back to the heuristic ({heuristic_name(scenario)})")
        try:
            version = _client().get_model_version_by_alias(model_name(scenario), "champion")
        except Exception as exc:  # noqa: BLE001 - any registry miss means "no champion"
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return heuristic(scenario, f"{uri}: not found ({reason[:160]}); "
                                       f"{scenario} falls back to the heuristic ({heuristic_name(scenario)})")
        uri = f"models:/{model_name(scenario)}/{version.version}"
        label = f"{uri} (@champion)"
    else:
        label = uri
    try:
        act = load_model_act(uri, scenario)
    except Exception as exc:  # noqa: BLE001 - one clear line instead of an MLflow traceback
        if spec == CHAMPION:
            return heuristic(scenario, f"{label}: cannot be loaded ({str(exc).splitlines()[0][:300]}); "
                                       f"{scenario} falls back to the heuristic ({heuristic_name(scenario)})")
        raise PolicyError(f"policy {uri} cannot be loaded: {str(exc).splitlines()[0][:300]}") from None
    return ResolvedPolicy(scenario, label, act, False)


def registered_versions(scenario: str, limit: int = 20) -> list[dict[str, Any]]:
    """Registered versions of a scenario's model, newest first (empty when there is no registry)."""
    if not registry_available():
        return []
    try:
        client = _client()
        versions = client.search_model_versions(f"name='{model_name(scenario)}'")
        # search results carry no aliases; the registered model has the alias -> version map
        by_alias = dict(client.get_registered_model(model_name(scenario)).aliases or {}) if versions else {}
    except Exception as exc:  # noqa: BLE001 - the page still works with heuristics only
        log.warning("model registry unavailable: %s", str(exc).splitlines()[0] if str(exc) else exc)
        return []
    out = []
    for v in sorted(versions, key=lambda v: int(v.version), reverse=True)[:limit]:
        aliases = sorted(a for a, ver in by_alias.items() if str(ver) == str(v.version))
        out.append({"version": int(v.version), "aliases": aliases})
    return out


def policy_options() -> dict[str, Any]:
    """What the page offers: modes, policies per mode (with registered versions), default settings."""
    from mission.settings import MODES, RunSettings

    per_scenario = {}
    for scenario in ("recon", "watering"):
        items = [{"value": CHAMPION, "label": "registry @champion (heuristic if none)"},
                 {"value": HEURISTIC, "label": f"heuristic ({heuristic_name(scenario)})"}]
        for v in registered_versions(scenario):
            tag = f" @{', @'.join(v['aliases'])}" if v["aliases"] else ""
            items.append({"value": f"models:/{model_name(scenario)}/{v['version']}",
                          "label": f"{model_name(scenario)} v{v['version']}{tag}"})
        per_scenario[scenario] = items
    # A mission's first select drives recon (and watering too unless the second select is set).
    same = {"value": "", "label": "like the recon policy (champion/heuristic)"}
    policies = {"mission": per_scenario["recon"], "mission_watering": [same, *per_scenario["watering"]],
                **per_scenario}
    defaults = RunSettings().to_dict()
    return {"modes": list(MODES), "policies": policies, "defaults": defaults, "legend": legend()}


def legend() -> list[dict[str, Any]]:
    """What the colours of env's frames mean (taken from env.render, so the page never disagrees)."""
    from env import render

    items = (("SOIL", "not yet sensed"), ("SENSED", "sensed"), ("OBSTACLE", "obstacle"), ("BASE", "base"),
             ("PLANT_HIDDEN", "plant not found yet"), ("PLANT_FOUND", "plant found / watered"),
             ("PLANT_THIRSTY", "plant needing water"), ("DRONE", "drone"), ("DRONE_DOWN", "drone grounded"))
    return [{"label": label, "rgb": list(getattr(render, name))} for name, label in items
            if hasattr(render, name)]

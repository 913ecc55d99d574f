"""The evaluation scenario suite as versioned data files (data/scenarios/, tracked by DVC).

``generate_suite`` is deterministic: the same params give byte-identical files, so ``dvc repro``
on a fresh clone reproduces the hashes in dvc.lock. Every file is validated against a pydantic
schema on write and on read: plants inside the field, no duplicate positions, counts in range,
and held-out sizes disjoint from every training profile's sizes.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from training.config import available_profiles, load_profile

SCHEMA_VERSION = 1
DEFAULT_SUITE_DIR = Path("data/scenarios")
MANIFEST = "suite.json"
SPLITS = ("train", "held_out")


class SuiteError(ValueError):
    """A scenario suite file or its generation parameters are invalid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LayoutSchema(_Strict):
    """One field layout as stored in a scenario file (cells are [y, x])."""

    width: int = Field(ge=4, le=512)
    height: int = Field(ge=4, le=512)
    base: tuple[int, int]
    plants: list[tuple[int, int]]
    needs: list[int]
    obstacles: list[tuple[int, int]] = []

    @model_validator(mode="after")
    def _consistent(self) -> "LayoutSchema":
        def inside(cell: tuple[int, int]) -> bool:
            return 0 <= cell[0] < self.height and 0 <= cell[1] < self.width

        for name, cells in (("base", [self.base]), ("plants", self.plants), ("obstacles", self.obstacles)):
            bad = next((c for c in cells if not inside(c)), None)
            if bad is not None:
                raise ValueError(f"{name} cell {list(bad)} lies outside the {self.width}x{self.height} field")
        if len(set(self.plants)) != len(self.plants):
            dup = next(c for c in self.plants if self.plants.count(c) > 1)
            raise ValueError(f"duplicate plant position {list(dup)}")
        taken = set(self.obstacles) | {self.base}
        clash = next((c for c in self.plants if c in taken), None)
        if clash is not None:
            raise ValueError(f"plant {list(clash)} sits on the base or an obstacle")
        if len(self.needs) != len(self.plants):
            raise ValueError(f"{len(self.needs)} water needs for {len(self.plants)} plants")
        if any(not 1 <= n <= 7 for n in self.needs):
            raise ValueError("water needs must be in 1..7")
        return self


class ScenarioFile(_Strict):
    """One suite entry: a field configuration and the layouts (one per evaluation seed)."""

    schema_version: Literal[1]
    suite_version: str = Field(pattern=r"^v\d+$")
    id: str = Field(pattern=r"^[a-z]+-(train|held_out)-\d+x\d+-d\d+(-o\d+)?$")
    scenario: Literal["recon", "watering"]
    split: Literal["train", "held_out"]
    seed: int = Field(ge=0)
    config: dict[str, Any]
    layouts: list[LayoutSchema] = Field(min_length=1, max_length=256)

    @model_validator(mode="after")
    def _matches_config(self) -> "ScenarioFile":
        from env.config import ConfigError, FieldConfig

        try:
            cfg = FieldConfig.from_dict(self.config)
        except ConfigError as exc:
            raise ValueError(f"config: {exc}") from None
        if not 1 <= cfg.n_drones <= 64:
            raise ValueError(f"config.n_drones={cfg.n_drones} out of range 1..64")
        for i, lay in enumerate(self.layouts):
            if (lay.width, lay.height) != (cfg.width, cfg.height):
                raise ValueError(
                    f"layouts[{i}] is {lay.width}x{lay.height}, config says {cfg.width}x{cfg.height}"
                )
            if len(lay.plants) != cfg.plants:
                raise ValueError(f"layouts[{i}] has {len(lay.plants)} plants, config says {cfg.plants}")
        return self


class SuiteEntry(_Strict):
    """Generation parameters of one configuration (params.yaml, section scenarios.configs).

    ``obstacle_density`` and any other env.config.FieldConfig key may be set per entry (``field``);
    they override the section-wide ``scenarios.field`` values.
    """

    split: Literal["train", "held_out"]
    width: int = Field(ge=4, le=512)
    height: int = Field(ge=4, le=512)
    n_drones: int = Field(ge=1, le=64)
    obstacle_density: float = Field(0.0, ge=0.0, le=0.4)
    field: dict[str, Any] = {}


class SuiteParams(_Strict):
    """params.yaml section ``scenarios``."""

    version: str = Field(pattern=r"^v\d+$")
    seed: int = Field(ge=0)
    layouts_per_config: int = Field(ge=1, le=256)
    scenarios: list[Literal["recon", "watering"]] = Field(min_length=1)
    field: dict[str, Any] = {}
    configs: list[SuiteEntry] = Field(min_length=1)


def _shipped_profiles() -> list[Any]:
    """Every shipped profile as each scenario trains it (a ``scenarios.<name>`` section may set its
    own curriculum, e.g. the `default` profile's recon stage on larger fields)."""
    from env.scenarios import SCENARIOS

    return [load_profile(name, scenario=scenario) for name in available_profiles() for scenario in SCENARIOS]


def training_densities() -> set[float]:
    """Obstacle densities that any shipped training profile trains on, for any scenario."""
    return {d for profile in _shipped_profiles() for d in profile.training_densities()}


def training_sizes() -> tuple[set[tuple[int, int]], set[int]]:
    """Field sizes and swarm sizes that any shipped training profile trains on, for any scenario."""
    fields: set[tuple[int, int]] = set()
    drones: set[int] = set()
    for profile in _shipped_profiles():
        for w, h, d in profile.training_sizes():
            fields.add((w, h))
            drones.add(d)
    return fields, drones


def check_held_out(entries: list[tuple[str, int, int, int]]) -> None:
    """Held-out (split, width, height, n_drones) must use field AND swarm sizes never trained on."""
    fields, drones = training_sizes()
    for split, w, h, d in entries:
        if split != "held_out":
            continue
        if (w, h) in fields or (h, w) in fields:
            raise SuiteError(
                f"held-out field size {w}x{h} is a training size (training sizes: " f"{sorted(fields)})"
            )
        if d in drones:
            raise SuiteError(
                f"held-out swarm size n_drones={d} is a training size (training: {sorted(drones)})"
            )


def _format(exc: ValidationError, source: str) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    return f"{source}: {loc + ': ' if loc else ''}{msg}"


def load_params(path: Path = Path("params.yaml")) -> SuiteParams:
    """Read and validate the ``scenarios`` section of params.yaml."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SuiteError(f"{path}: cannot read ({exc})") from None
    try:
        return SuiteParams.model_validate(data.get("scenarios"))
    except ValidationError as exc:
        raise SuiteError(_format(exc, f"{path} [scenarios]")) from None


def scenario_id(scenario: str, entry: SuiteEntry) -> str:
    """Stable id, e.g. recon-held_out-20x20-d6-o10 (o = obstacle density in percent)."""
    return (
        f"{scenario}-{entry.split}-{entry.width}x{entry.height}-d{entry.n_drones}"
        f"-o{round(100 * entry.obstacle_density)}"
    )


def build_files(params: SuiteParams) -> dict[str, dict[str, Any]]:
    """The suite's file contents (name -> JSON object); pure and deterministic."""
    import numpy as np

    from env.config import ConfigError, FieldConfig
    from env.layout import generate_batch

    check_held_out([(e.split, e.width, e.height, e.n_drones) for e in params.configs])
    files: dict[str, dict[str, Any]] = {}
    for s_index, scenario in enumerate(params.scenarios):
        for c_index, entry in enumerate(params.configs):
            try:
                cfg = FieldConfig.from_dict(
                    {
                        **params.field,
                        **entry.field,
                        "width": entry.width,
                        "height": entry.height,
                        "n_drones": entry.n_drones,
                        "obstacle_density": entry.obstacle_density,
                    }
                )
            except ConfigError as exc:
                raise SuiteError(f"params.yaml [scenarios] configs[{c_index}]: {exc}") from None
            seed = params.seed + 1000 * s_index + c_index
            k = params.layouts_per_config
            batch = generate_batch(cfg, seed, np.arange(k), np.zeros(k, dtype=np.int64))
            sid = scenario_id(scenario, entry)
            body = {
                "schema_version": SCHEMA_VERSION,
                "suite_version": params.version,
                "id": sid,
                "scenario": scenario,
                "split": entry.split,
                "seed": seed,
                "config": cfg.to_dict(),
                "layouts": [batch.layout(i).to_dict() for i in range(k)],
            }
            ScenarioFile.model_validate(body)
            files[f"{sid}.json"] = body
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "suite_version": params.version,
        "seed": params.seed,
        "scenarios": sorted(files),
    }
    files[MANIFEST] = manifest
    return files


def generate_suite(params: SuiteParams, out_dir: Path = DEFAULT_SUITE_DIR) -> list[Path]:
    """Write the suite atomically: built in a temporary folder, then swapped in."""
    files = build_files(params)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".suite-", dir=out_dir.parent))
    tmp.chmod(0o755)
    try:
        for name, body in files.items():
            (tmp / name).write_text(json.dumps(body, indent=1, sort_keys=True) + "\n")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return sorted(out_dir / name for name in files)


class Suite:
    """A loaded, validated suite: ScenarioFile objects by id, plus its content hash."""

    def __init__(self, directory: Path, entries: list[ScenarioFile], suite_hash: str, version: str) -> None:
        self.directory, self.entries, self.hash, self.version = directory, entries, suite_hash, version

    def for_scenario(self, scenario: str) -> list[ScenarioFile]:
        """Entries of one scenario (recon or watering)."""
        return [e for e in self.entries if e.scenario == scenario]


def load_suite(directory: Path = DEFAULT_SUITE_DIR) -> Suite:
    """Read and validate every scenario file listed in the manifest."""
    from training.paths import directory_hash

    directory = Path(directory)
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise SuiteError(
            f"no scenario suite at {directory} (missing {MANIFEST}); run: swarmops scenarios generate"
        )
    try:
        manifest = json.loads(manifest_path.read_text())
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{manifest_path}: malformed JSON ({exc})") from None
    names = manifest.get("scenarios", []) if isinstance(manifest, dict) else None
    if not isinstance(names, list) or not all(isinstance(n, str) and n and "/" not in n for n in names):
        raise SuiteError(f"{manifest_path}: expected {{\"scenarios\": [file names in {directory}], ...}}")
    entries = []
    for name in names:
        path = directory / name
        try:
            entries.append(ScenarioFile.model_validate(json.loads(path.read_text())))
        except FileNotFoundError:
            raise SuiteError(f"{path}: listed in {MANIFEST} but missing") from None
        except json.JSONDecodeError as exc:
            raise SuiteError(f"{path}: malformed JSON ({exc})") from None
        except ValidationError as exc:
            raise SuiteError(_format(exc, str(path))) from None
    if not entries:
        raise SuiteError(f"{manifest_path}: lists no scenario files")
    check_held_out([(e.split, e.config["width"], e.config["height"], e.config["n_drones"]) for e in entries])
    return Suite(directory, entries, directory_hash(directory), str(manifest.get("suite_version")))


def entry_layouts(entry: ScenarioFile, where: str = "") -> tuple[Any, list[Any]]:
    """The simulator's FieldConfig and Layouts of one suite entry, built by env itself (obstacles,
    reachability from the base...): the one conversion that both `scenarios validate` and evaluation
    use, so a suite that validates is a suite that evaluates. A refusal is a one-line SuiteError."""
    from env.config import ConfigError, FieldConfig
    from env.layout import Layout

    name = where or entry.id
    try:
        cfg = FieldConfig.from_dict(entry.config)
    except ConfigError as exc:
        raise SuiteError(f"{name}: config: {exc}") from None
    layouts = []
    for i, lay in enumerate(entry.layouts):
        try:
            layouts.append(Layout.from_dict(lay.model_dump(), cfg))
        except ConfigError as exc:
            raise SuiteError(f"{name}: layouts[{i}]: {exc}") from None
    return cfg, layouts


def check_runnable(suite: Suite) -> None:
    """Build every entry's layouts with the simulator (see :func:`entry_layouts`); SuiteError if one fails."""
    for entry in suite.entries:
        entry_layouts(entry, f"{suite.directory / (entry.id + '.json')}")

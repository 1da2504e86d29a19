"""StreamRec: session-based next-item recommendation, from a click log or a simulated world to a
trained model, its rival baselines, the best possible score and an explanation of each pick.

The names below are the public API: they stay importable from `streamrec` whatever moves
inside the package (README "Use from Python"). They load on first use (PEP 562), so
`import streamrec` stays cheap and pulls in torch only when a name that needs it is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public name -> the module that defines it.
_EXPORTS = {
    # Configs
    "SimConfig": "streamrec.config",
    "LSTMConfig": "streamrec.config",
    "TrainConfig": "streamrec.config",
    "RunConfig": "streamrec.config",
    # Simulated worlds
    "simulate": "streamrec.world.simulator",
    "SCENARIOS": "streamrec.world.scenarios",
    "get_scenario": "streamrec.world.scenarios",
    # Click logs as data sets
    "ImportConfig": "streamrec.data.log_import",
    "import_log": "streamrec.data.log_import",
    "load_dataset": "streamrec.data.datasets",
    "open_data": "streamrec.data.sources",
    # Training and run folders
    "train": "streamrec.training.loop",
    "create_run": "streamrec.training.runs",
    "run_training": "streamrec.training.jobs",
    "load_model": "streamrec.training.runs",
    "read_status": "streamrec.training.runs",
    # Using a model
    "recommend": "streamrec.recommendation",
    "occlusion": "streamrec.explain.faithfulness",
    # The ceiling and the baselines
    "Oracle": "streamrec.world.oracle",
    "GlobalPopularity": "streamrec.evaluation.baselines",
    "LastCategoryPopularity": "streamrec.evaluation.baselines",
    "SequentialRules": "streamrec.evaluation.baselines",
    "MarkovChain": "streamrec.evaluation.baselines",
    "VSKNN": "streamrec.evaluation.knn",
    "evaluate_baselines": "streamrec.evaluation.baselines",
}
__all__ = [
    "SCENARIOS",
    "VSKNN",
    "GlobalPopularity",
    "ImportConfig",
    "LSTMConfig",
    "LastCategoryPopularity",
    "MarkovChain",
    "Oracle",
    "RunConfig",
    "SequentialRules",
    "SimConfig",
    "TrainConfig",
    "create_run",
    "evaluate_baselines",
    "get_scenario",
    "import_log",
    "load_dataset",
    "load_model",
    "occlusion",
    "open_data",
    "read_status",
    "recommend",
    "run_training",
    "simulate",
    "train",
]

if TYPE_CHECKING:  # what type checkers and editors see; at run time __getattr__ loads them
    from streamrec.config import LSTMConfig, RunConfig, SimConfig, TrainConfig
    from streamrec.data.datasets import load_dataset
    from streamrec.data.log_import import ImportConfig, import_log
    from streamrec.data.sources import open_data
    from streamrec.evaluation.baselines import (
        GlobalPopularity,
        LastCategoryPopularity,
        MarkovChain,
        SequentialRules,
        evaluate_baselines,
    )
    from streamrec.evaluation.knn import VSKNN
    from streamrec.explain.faithfulness import occlusion
    from streamrec.recommendation import recommend
    from streamrec.training.jobs import run_training
    from streamrec.training.loop import train
    from streamrec.training.runs import create_run, load_model, read_status
    from streamrec.world.oracle import Oracle
    from streamrec.world.scenarios import SCENARIOS, get_scenario
    from streamrec.world.simulator import simulate


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'streamrec' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    """The public names beside the module's own, for tab completion."""
    return sorted({*globals(), *__all__})

"""Hyper-parameter search for every method on the validation sessions, within one time budget.

Each method (`streamrec.training.search_spaces.METHODS`) gets its own Optuna study: TPE
(Bergstra et al., NeurIPS 2011) proposes settings, and for the neural families a median
pruner stops a trial whose validation score after an epoch is below the median of earlier
trials at that epoch (Optuna: Akiba et al., KDD 2019). The first trial of every study is the
method's current defaults. All studies live in one SQLite file (`tune.db`, Optuna's RDB
storage) in the tune folder, so a search stopped or killed resumes where it was and repeats
no finished trial; every finished trial is also appended to `trials.jsonl` for the pages.

The budget is shared fairly: the next trial always goes to the method that has used the least
time so far, and a method whose settings are all tried (a small grid) or whose proposals only
repeat tried settings leaves its share to the others. A neural trial gets a time limit (half
of its method's fair share of what is left) and is cut at the search deadline; a reserve at
the end scores each method's best setting on the test sessions. Those are fitted on the
training sessions only (the models the search validated), or with `refit` on training +
validation, as the literature does for the final model (the neural families then retrain
for their best trial's epoch count).
"""
from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from streamrec.config import LSTMConfig, RunConfig, TrainConfig, model_config
from streamrec.data.sessions import SessionData
from streamrec.data.splits import Split, Targets
from streamrec.evaluation.baselines import evaluate_scorer, left_out_baselines
from streamrec.evaluation.metrics import BOOTSTRAP_SAMPLES, paired_differences
from streamrec.training import runs
from streamrec.training.loop import evaluate_model, train
from streamrec.training.search_spaces import METHODS, Method
from streamrec.training.stopping import StopRequested
from streamrec.training.tune_table import against_best, checked_against

DB_FILE = "tune.db"
TRIALS_FILE = "trials.jsonl"
RESULT_FILE = "result.json"
META_FILE = "tune.json"
BEST_DIR = "best"  # best/<method>/: the best neural trial's weights, as a run folder
CUTOFFS = (10, 20)
PAIRED = (("hit", 10), ("hit", 20), ("mrr", 20))  # measures of the paired differences
# The final scoring's paired differences: about this many session-bootstrap intervals per
# method (3 against the winner, 2 against the best method of the other kind, and 3 in all for
# the best neural against the best baseline), each BOOTSTRAP_SAMPLES draws of every test
# session, at about this many seconds per drawn session (measured: 2,000 x 3,688 sessions in
# 0.27 s on a loaded core).
BOOTSTRAPS_PER_METHOD = 6
SECONDS_PER_DRAWN_SESSION = 5e-8
MIN_TRIAL_SECONDS = 15.0  # a neural trial shorter than this rarely finishes one epoch
REPEATS_TO_GIVE_UP = 15  # proposals in a row that only repeat tried settings: method done
# A baseline whose best validation score has not risen by more than CONVERGED_GAIN in its last
# CONVERGED_AFTER finished trials has converged: its share of the budget goes to the others.
# (Measured on the YOOCHOOSE sample: V-SKNN, STAN and VSTAN found their best within their
# first 40-110 of 170-214 trials; the rest of their ~2 minutes each bought nothing.)
CONVERGED_AFTER = 40
CONVERGED_GAIN = 1e-4
FIT_ON = ("train", "train+valid")


@dataclass(frozen=True)
class TuneConfig:
    """One search: its budget, methods, objective and how the final models are fitted."""

    budget: float = 1200.0  # seconds of wall time for the whole tune, final scoring included
    methods: tuple[str, ...] = tuple(METHODS)
    metric: str = "mrr@20"  # validation score to maximise
    # Final models on training + validation (as the literature fits the final model; a quarter
    # more of the budget is kept for it) or, False, on training only (the models the search
    # validated).
    refit: bool = True
    trial_seconds: float = 0.0  # a neural trial's time limit; 0: half its fair share
    max_len: int = 25  # clicks a prefix shows (models and baselines alike)
    seed: int = 42

    def validate(self) -> TuneConfig:
        """Raise ValueError on the first setting out of range; return self when valid."""
        if not 10 <= self.budget <= 7 * 86400:
            raise ValueError(f"budget = {self.budget:g} s is out of range: allowed 10 s to 7 days")
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown or not self.methods:
            raise ValueError(f"methods = {','.join(unknown) or '(none)'}: choose from "
                             f"{', '.join(METHODS)}")
        allowed = [f"{m}@{k}" for k in CUTOFFS for m in ("hit", "mrr", "ndcg")]
        if self.metric not in allowed:
            raise ValueError(f"metric = {self.metric!r}: choose from {', '.join(allowed)}")
        if not 0 <= self.trial_seconds <= self.budget:
            raise ValueError(f"trial_seconds = {self.trial_seconds:g} is out of range: "
                             f"allowed 0 (automatic) to the budget ({self.budget:g})")
        if not 1 <= self.max_len <= 1000:
            raise ValueError(f"max_len = {self.max_len} is out of range: allowed 1-1000")
        return self

    @property
    def fit_on(self) -> str:
        """'train' or 'train+valid': what the final models are fitted on."""
        return FIT_ON[self.refit]


@dataclass
class TuneTarget:
    """What is tuned: the sessions, their split, the run config a neural trial starts from
    and the folder the search lives in."""

    label: str  # "data set yoochoose-100k" / "scenario streaming"
    data: SessionData
    split: Split
    base: RunConfig
    folder: Path
    fingerprint: str  # changes when the sessions do: a stored search on other data is refused
    oracle: bool = False  # simulated: the oracle is scored beside the tuned methods
    first_trials: dict[str, dict[str, Any]] = field(default_factory=dict)  # method -> params
    max_len: int = 25  # the window the data's own recommendation reads (a scenario's)


@dataclass
class MethodResult:
    """One method after the search: its best setting and that setting's scores."""

    key: str
    label: str
    kind: str
    settings: dict[str, Any]
    valid: dict[str, float]
    test: dict[str, float] = field(default_factory=dict)
    trials: int = 0  # complete + pruned trials, all sessions of the search
    seconds: float = 0.0  # search time spent on it, all sessions
    note: str = ""


Progress = Callable[[float, str], None]


def tune_folder_for_dataset(name: str, data_root: Path | None = None) -> Path:
    """`<data root>/NAME/tune`: a data set's search lives beside its sessions."""
    from streamrec.data.datasets import check_name, default_data_root

    return (Path(data_root) if data_root else default_data_root()) / check_name(name) / "tune"


def tune_folder_for_scenario(name: str, data_root: Path | None = None) -> Path:
    """`<data root>/.scenario-tunes/NAME`: a simulated world's search (hidden from the data
    set listing, which would take it for a broken data set)."""
    from streamrec.data.datasets import default_data_root

    return (Path(data_root) if data_root else default_data_root()) / ".scenario-tunes" / name


def dataset_target(name: str, data_root: Path | None = None) -> TuneTarget:
    """An imported data set's sessions and split, its tune folder beside them."""
    from streamrec.data.sources import dataset_config, open_data

    base = dataset_config(RunConfig(), name, data_root)
    data, split = open_data(base, data_root)
    return TuneTarget(f"data set {name}", data, split, base,
                      tune_folder_for_dataset(name, data_root), base.data.content_hash)


def scenario_target(name: str, data_root: Path | None = None) -> TuneTarget:
    """A named simulated world with the session protocol, its tune folder under the data root."""
    from streamrec.data.sources import open_data
    from streamrec.world.scenarios import get_scenario

    scenario = get_scenario(name)
    sim = scenario.config()
    base = RunConfig(sim, model_config("lstm", n_items=sim.n_items),
                     TrainConfig(max_len=scenario.max_len)).validate()
    data, split = open_data(base)
    fingerprint = json.dumps(dataclasses.asdict(sim), sort_keys=True)
    # The LSTM's first trial carries the options the scenario recommends for order worlds.
    lstm = scenario.model_settings(LSTMConfig)
    return TuneTarget(f"scenario {name}", data, split, base,
                      tune_folder_for_scenario(name, data_root), fingerprint, oracle=True,
                      first_trials={"lstm": lstm} if lstm else {}, max_len=scenario.max_len)


def _storage(folder: Path) -> Any:
    import optuna

    return optuna.storages.RDBStorage(f"sqlite:///{(folder / DB_FILE).resolve()}")


def _prepare(target: TuneTarget, config: TuneConfig, fresh: bool) -> None:
    """Create the tune folder, or check that the stored search was made on the same data."""
    folder = target.folder
    meta_path = folder / META_FILE
    if fresh and folder.exists():
        for name in (DB_FILE, TRIALS_FILE, RESULT_FILE, META_FILE):
            (folder / name).unlink(missing_ok=True)
        import shutil

        shutil.rmtree(folder / BEST_DIR, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    if meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{meta_path} is unreadable ({exc}): start over with --fresh") from None
        if not isinstance(meta, dict) or meta.get("fingerprint") != target.fingerprint:
            raise ValueError(f"the search stored in {folder} was made on other sessions "
                             "(re-imported or changed): start over with --fresh")
        if meta.get("max_len") != config.max_len or meta.get("metric") != config.metric:
            raise ValueError(
                f"the search stored in {folder} used max_len {meta.get('max_len')} and metric "
                f"{meta.get('metric')}: resume with those, or start over with --fresh")
    else:
        runs.write_json(meta_path, {"target": target.label, "fingerprint": target.fingerprint,
                                    "max_len": config.max_len, "metric": config.metric})


def stored_settings(folder: Path) -> dict[str, Any]:
    """The max_len and metric a stored search used ({} when there is none or it is unreadable),
    so that resuming needs no flags repeated."""
    try:
        meta = json.loads((Path(folder) / META_FILE).read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    if not isinstance(meta, dict):
        return {}
    return {key: meta[key] for key in ("max_len", "metric") if key in meta}


def read_trials(folder: Path) -> list[dict[str, Any]]:
    """Every finished trial recorded in the folder's trials.jsonl (bad lines skipped)."""
    path = Path(folder) / TRIALS_FILE
    if not path.exists():
        return []
    trials = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut by a crash mid-write
        if isinstance(record, dict) and isinstance(record.get("method"), str):
            trials.append(record)
    return trials


def read_result(folder: Path) -> dict[str, Any] | None:
    """The final table a finished tune wrote (None before one finished). Its "against" (the
    paired differences with session-bootstrap intervals) is dropped when malformed, and is
    absent in a result from before the intervals: the table then shows without them."""
    path = Path(folder) / RESULT_FILE
    try:
        result = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if not isinstance(result, dict) or not isinstance(result.get("methods"), list):
        return None
    if not all(isinstance(entry, dict) for entry in result["methods"]):
        return None
    against = checked_against(result.pop("against", None))
    if against is not None:
        result["against"] = against
    return result


class _Search:
    """One session of a search: the studies, the clock and the fair scheduling."""

    def __init__(self, target: TuneTarget, config: TuneConfig, should_stop: Callable[[], bool],
                 progress: Progress, started: float | None = None) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.optuna = optuna
        self.target, self.config = target, config
        self.should_stop, self.progress = should_stop, progress
        self.start = started or time.time()  # the caller's clock: loading the data counts
        self.end = self.start + config.budget
        # The final scoring's reserve: a tenth of the budget (10 s to 3 min), a quarter more
        # when the neural families retrain on training + validation.
        self.reserve = min(max(0.1 * config.budget, 10.0), 180.0) + 0.25 * config.budget * config.refit
        self.search_end = self.end - self.reserve
        left_out = left_out_baselines(target.data)
        self.methods = [METHODS[key] for key in config.methods if METHODS[key].label not in left_out]
        if not self.methods:
            raise ValueError(f"none of {', '.join(config.methods)} runs on {target.label}")
        storage = _storage(target.folder)
        self.studies = {}
        for method in self.methods:
            study = optuna.create_study(
                study_name=method.key, storage=storage, load_if_exists=True, direction="maximize",
                sampler=optuna.samplers.TPESampler(seed=config.seed + self._n_trials(storage, method)),
                pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0),
            )
            self._fail_stale(study)
            if not study.trials:
                study.enqueue_trial({**method.defaults(), **target.first_trials.get(method.key, {})})
            self.studies[method.key] = study
        self.spent = {m.key: 0.0 for m in self.methods}
        self.trial_seconds: dict[str, list[float]] = {}  # each method's finished trials
        self.done: set[str] = set()
        test = target.split.test if len(target.split.test) else target.split.valid
        self.test_sessions = int(np.unique(test.session).size)  # what the bootstrap resamples

    @staticmethod
    def _n_trials(storage: Any, method: Method) -> int:
        try:
            study_id = storage.get_study_id_from_name(method.key)
        except KeyError:
            return 0
        return len(storage.get_all_trials(study_id, deepcopy=False))

    def _fail_stale(self, study: Any) -> None:
        """Trials left RUNNING by a killed search are failed, so they are neither resumed nor
        taken for finished ones."""
        running = self.optuna.trial.TrialState.RUNNING
        for trial in study.get_trials(deepcopy=False, states=(running,)):
            study._storage.set_trial_state_values(trial._trial_id, self.optuna.trial.TrialState.FAIL)

    def final_estimate(self) -> float:
        """Seconds the final scoring will take, from the trials so far: a baseline refits and
        scores the test targets as a trial did the validation ones (scaled by their counts),
        a neural family only scores them (a tenth of a trial, as scaled); then the paired
        differences' session-bootstrap intervals."""
        split = self.target.split
        scale = max(len(split.test), 1) / max(len(split.valid), 1)
        total = (len(self.methods) * BOOTSTRAPS_PER_METHOD * BOOTSTRAP_SAMPLES
                 * self.test_sessions * SECONDS_PER_DRAWN_SESSION)
        for method in self.methods:
            seconds = self.trial_seconds.get(method.key, [])
            if seconds:
                typical = float(np.median(seconds))
                total += scale * typical * (1.0 if method.kind == "baseline" else 0.1)
        return total

    def run(self) -> None:
        """Trials until the search deadline, a stop, or every method done. The deadline moves
        earlier when the final scoring, estimated from the trials, needs more than the reserve."""
        while not self.should_stop():
            active = [m for m in self.methods if m.key not in self.done]
            self.search_end = self.end - max(self.reserve, 1.2 * self.final_estimate())
            left = self.search_end - time.time()
            if not active or left <= 1:
                return
            # Least time spent first; on a tie a baseline (seconds) before a family (minutes).
            method = min(active, key=lambda m: (self.spent[m.key], m.kind == "neural"))
            fair = left / len(active)
            started = time.time()
            self._trial(method, fair)
            self.spent[method.key] += time.time() - started

    def _finished(self, study: Any) -> list[Any]:
        """The study's complete and pruned trials, in trial order."""
        states = (self.optuna.trial.TrialState.COMPLETE, self.optuna.trial.TrialState.PRUNED)
        return list(study.get_trials(deepcopy=False, states=states))

    def _trial(self, method: Method, fair: float) -> None:
        study = self.studies[method.key]
        finished = self._finished(study)
        tried = [t.params for t in finished]
        values = [float(t.value) for t in finished if t.state == self.optuna.trial.TrialState.COMPLETE
                  and t.value is not None]
        size = method.grid_size
        if (size is not None and len(tried) >= size) or (
                method.kind == "baseline" and converged(values)):
            self.done.add(method.key)
            return
        for _ in range(REPEATS_TO_GIVE_UP):
            trial = study.ask()
            settings = method.suggest(trial)
            if trial.params not in tried:
                break
            # A repeat of a finished setting is never run again: failed, marked, not counted.
            trial.set_user_attr("repeat", True)
            study.tell(trial, state=self.optuna.trial.TrialState.FAIL)
        else:
            self.done.add(method.key)
            return
        self.progress(self._fraction(), f"{method.label}: trial {trial.number}")
        started = time.time()
        try:
            if method.kind == "baseline":
                valid, epochs, pruned = self._baseline(method, settings), 0.0, False
            else:
                limit = self.config.trial_seconds or max(MIN_TRIAL_SECONDS, fair / 2)
                valid, epochs, pruned = self._neural(method, settings, trial, limit, study)
        except StopRequested:
            study.tell(trial, state=self.optuna.trial.TrialState.FAIL)
            return
        except (ValueError, RuntimeError) as exc:  # a setting that cannot run (too big, ...)
            error = f"{type(exc).__name__}: {exc}"
            trial.set_user_attr("error", error)
            study.tell(trial, state=self.optuna.trial.TrialState.FAIL)
            self._record(method, trial.number, "failed", None, trial.params, {}, started, 0.0,
                         error)
            return
        seconds = time.time() - started
        self.trial_seconds.setdefault(method.key, []).append(seconds)
        value = valid.get(self.config.metric) if valid else None
        trial.set_user_attr("valid", valid)
        trial.set_user_attr("seconds", seconds)
        trial.set_user_attr("epochs", epochs)
        if value is None or not math.isfinite(value):
            study.tell(trial, state=self.optuna.trial.TrialState.FAIL)
            self._record(method, trial.number, "failed", None, trial.params, valid, started, epochs)
            return
        state = self.optuna.trial.TrialState.PRUNED if pruned else self.optuna.trial.TrialState.COMPLETE
        if pruned:
            study.tell(trial, state=state)
        else:
            study.tell(trial, value)
        self._record(method, trial.number, "pruned" if pruned else "complete", value,
                     trial.params, valid, started, epochs)

    def _record(self, method: Method, number: int, state: str, value: float | None,
                params: dict[str, Any], valid: dict[str, float], started: float,
                epochs: float, error: str = "") -> None:
        record = {"error": error,"method": method.key, "label": method.label, "kind": method.kind,
                  "number": number, "state": state, "value": value, "metric": self.config.metric,
                  "params": params, "valid": valid, "seconds": time.time() - started,
                  "epochs": epochs, "finished": time.time()}
        with open(self.target.folder / TRIALS_FILE, "a") as fh:
            fh.write(json.dumps(record) + "\n")

    def _fraction(self) -> float:
        return min(1.0, (time.time() - self.start) / self.config.budget)

    def out_of_time(self) -> bool:
        """True once the whole budget is spent (the final scoring's only stop)."""
        return time.time() > self.end

    def _stop_at(self, deadline: float) -> Callable[[], bool]:
        return lambda: self.should_stop() or time.time() > deadline

    def _baseline(self, method: Method, settings: dict[str, Any]) -> dict[str, float]:
        target = self.target
        scorer = method.build(settings).fit(target.data, target.split.train)
        metrics, _ = evaluate_scorer(
            scorer, target.data, target.split.valid, self.config.max_len, CUTOFFS,
            should_stop=self._stop_at(self.end),
        )
        return metrics

    def _run_config(self, method: Method, settings: dict[str, Any], **train: Any) -> RunConfig:
        base = self.target.base
        chosen = covering_window(method.key, settings["model"], self.config.max_len)
        model = model_config(method.key, n_items=base.model.n_items, **chosen)
        fields = {**settings["train"], "max_len": self.config.max_len, "cutoffs": CUTOFFS,
                  "seed": self.config.seed, "log_every": 100_000, **train}
        return dataclasses.replace(
            base, model=model, train=dataclasses.replace(base.train, **fields)
        ).validate()

    def _neural(self, method: Method, settings: dict[str, Any], trial: Any, limit: float,
                study: Any) -> tuple[dict[str, float], float, bool]:
        """Train one setting with per-epoch validation reported to the pruner; the best epoch's
        validation metrics, the epochs trained, and whether it was pruned. The best weights of
        the method so far are kept in best/<method>/ as a run folder."""
        limit = min(limit, self.search_end - time.time())
        config = self._run_config(method, settings, max_seconds=max(limit, 1.0))
        split = self.target.split
        search_split = Split(split.protocol, split.train, split.valid, _empty())  # never the test set
        # max_seconds bounds the training; validation is outside it, so the hard stop lets it
        # run a little into the final reserve (never a trial's own limit: under load a first
        # epoch may need longer than the limit to be validated at all).
        hard = self.search_end + 0.3 * (self.end - self.search_end)
        holder: dict[str, Any] = {}
        best: dict[str, Any] = {"value": -1.0, "metrics": {}, "state": None}
        epochs, pruned = 0.0, False

        def keep(kind: str, model: Any) -> None:
            holder["model"] = model

        for event in train(config, self.target.data, search_split, self._stop_at(hard), keep):
            if event["event"] != "epoch":
                continue
            epochs = float(event["epoch"])
            metrics = {key: float(event[key]) for key in event  # type: ignore[literal-required]
                       if "@" in key}
            value = metrics[self.config.metric]
            if value > best["value"]:
                state = holder["model"].state_dict()
                best.update(value=value, metrics=metrics, epoch=epochs,
                            state={k: v.detach().clone() for k, v in state.items()})
            trial.report(value, step=math.ceil(epochs))
            if trial.should_prune():
                pruned = True
                break
            if epochs >= config.train.epochs or epochs != int(epochs):
                break  # the last epoch, or the time limit cut one: no final scoring here
        if best["state"] is None:
            return {}, epochs, pruned
        trial.set_user_attr("best_epoch", best["epoch"])
        previous = [t.value for t in study.get_trials(deepcopy=False)
                    if t.value is not None and t.number != trial.number]
        if not pruned and best["value"] > max(previous, default=-1.0):
            self._save_best(method, config, best["state"], best["epoch"], settings)
        return best["metrics"], epochs, pruned

    def _save_best(self, method: Method, config: RunConfig, state: dict[str, torch.Tensor],
                   epoch: float, settings: dict[str, Any]) -> None:
        from streamrec.model import build_model

        folder = self.target.folder / BEST_DIR / method.key
        folder.mkdir(parents=True, exist_ok=True)
        model = build_model(config.model)
        model.load_state_dict(state)
        runs.save_weights(folder, "best", model)
        runs.write_json(folder / runs.CONFIG_FILE, config.to_dict())
        runs.write_json(folder / "trial.json", {"best_epoch": epoch, "settings": settings})


def converged(values: list[float], after: int = CONVERGED_AFTER,
              gain: float = CONVERGED_GAIN) -> bool:
    """True when the last `after` of these finished trials' scores (in trial order) never beat
    the best before them by more than `gain`: the search of that method has converged."""
    if len(values) <= after:
        return False
    best = max(values[:-after])
    return max(values[-after:]) <= best + gain


def covering_window(family: str, settings: dict[str, Any], max_len: int) -> dict[str, Any]:
    """A family's model settings with its learned positions (if it has them) covering max_len."""
    chosen = dict(settings)
    positions = getattr(model_config(family), "max_positions", None)
    if isinstance(positions, int) and positions < max_len:
        chosen["max_positions"] = max_len
    return chosen


def _empty() -> Targets:
    return Targets(np.zeros(0, np.int64), np.zeros(0, np.int64))


def _join(a: Targets, b: Targets) -> Targets:
    return Targets(np.concatenate([a.session, b.session]), np.concatenate([a.position, b.position]))


def best_settings(folder: Path, methods: list[Method]) -> list[MethodResult]:
    """Each method's best finished trial in the folder's studies (methods without one left out)."""
    import optuna

    storage = _storage(folder)
    results = []
    for method in methods:
        try:
            study = optuna.load_study(study_name=method.key, storage=storage)
        except KeyError:
            continue
        finished = [t for t in study.get_trials(deepcopy=False)
                    if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)]
        complete = [t for t in finished if t.state == optuna.trial.TrialState.COMPLETE]
        if not complete:
            continue
        top = max(complete, key=lambda t: float(t.value or 0.0))
        settings = _settings_of(method, top.params)
        results.append(MethodResult(
            method.key, method.label, method.kind, settings, dict(top.user_attrs.get("valid", {})),
            trials=len(finished), seconds=sum(float(t.user_attrs.get("seconds", 0)) for t in finished),
        ))
    return results


class _Replay:
    """A trial that answers with stored parameters: rebuilds a setting from a trial's params."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        """The stored value."""
        return self.params[name]

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        """The stored value."""
        return float(self.params[name])

    def suggest_int(self, name: str, low: int, high: int, *, log: bool = False) -> int:
        """The stored value."""
        return int(self.params[name])


def _settings_of(method: Method, params: dict[str, Any]) -> dict[str, Any]:
    return method.suggest(_Replay(params))


class _Final:
    """Scoring each method's best setting on the test sessions, all fitted on the same ones."""

    def __init__(self, search: _Search) -> None:
        self.search = search
        target = search.target
        split = target.split
        self.fit = _join(split.train, split.valid) if search.config.refit else split.train
        self.test = split.test if len(split.test) else split.valid

    def score(self, result: MethodResult) -> np.ndarray | None:
        """Fill `result.test`; the per-target ranks, or None when it could not be scored."""
        search, target = self.search, self.search.target
        method = METHODS[result.key]
        stop = search.out_of_time
        if method.kind == "baseline":
            scorer = method.build(result.settings).fit(target.data, self.fit)
            metrics, ranks = evaluate_scorer(scorer, target.data, self.test, search.config.max_len,
                                             CUTOFFS, should_stop=stop)
        else:
            folder = target.folder / BEST_DIR / result.key
            if search.config.refit:
                model = self._refit(method, result, folder)
            else:
                model, _ = runs.load_model(folder)
            metrics, ranks = evaluate_model(model, target.data, self.test, search.config.max_len,
                                            CUTOFFS, should_stop=stop)
            metrics.pop("loss", None)
        result.test = metrics
        return ranks

    def _refit(self, method: Method, result: MethodResult, folder: Path) -> Any:
        """Retrain the best setting on training + validation for its best trial's epochs."""
        search = self.search
        trial = json.loads((folder / "trial.json").read_text())
        epochs = max(1, math.ceil(float(trial["best_epoch"])))
        left = max(1.0, (search.end - time.time()) / 2)
        config = search._run_config(method, result.settings, epochs=epochs, max_seconds=left)
        split = Split(search.target.split.protocol, self.fit, search.target.split.valid, _empty())
        holder: dict[str, Any] = {}
        for event in train(config, search.target.data, split, search.out_of_time,
                           lambda kind, model: holder.__setitem__(kind, model)):
            if event["event"] == "epoch" and event["epoch"] >= epochs:
                break  # the last epoch's weights: validation is inside the fit here
        if "last" not in holder:
            raise StopRequested
        return holder["last"]


def tune(
    target: TuneTarget,
    config: TuneConfig,
    should_stop: Callable[[], bool] = lambda: False,
    progress: Progress = lambda fraction, message: None,
    fresh: bool = False,
    started: float | None = None,
) -> dict[str, Any]:
    """Search every method within the budget counted from `started` (default: now), score
    each best setting on the test sessions, write result.json in the tune folder, return it."""
    config.validate()
    _prepare(target, config, fresh)
    search = _Search(target, config, should_stop, progress, started)
    search.run()
    stopped = should_stop()
    progress(search._fraction(), "scoring the best settings on the test sessions")
    final = _Final(search)
    results = best_settings(target.folder, search.methods)
    ranks: dict[str, np.ndarray] = {}
    # A stop ends the search, not the scoring: the best settings so far are scored, within
    # the budget.
    for result in results:
        if search.out_of_time():
            result.note = "not scored on test: the budget ran out"
            continue
        try:
            scored = final.score(result)
        except StopRequested:
            result.note = "not scored on test: the budget ran out"
            continue
        except runs.RunError as exc:
            result.note = f"not scored on test: {exc}"
            continue
        if scored is not None:
            ranks[result.key] = scored
    oracle = _oracle(search, final) if target.oracle else None
    metric = config.metric
    ranked = sorted(results, key=lambda r: -r.valid.get(metric, -1.0))
    winner = ranked[0] if ranked else None
    neural = next((r for r in ranked if r.kind == "neural" and r.test), None)
    sessions = final.test.session  # each test target's session: the bootstrap resamples them
    if ranks:
        arrays: dict[str, Any] = {"sessions": sessions, **ranks}
        np.savez(target.folder / "ranks.npz", **arrays)
    paired = {}
    if winner is not None and winner.key in ranks:
        others = {r.label: ranks[r.key] for r in results if r.key in ranks and r.key != winner.key}
        paired = paired_differences(ranks[winner.key], others, PAIRED, sessions)
    # The question: the best neural family against the best baseline (both chosen on
    # validation), paired on the same test targets, with 95% intervals over test sessions.
    baseline = next((r for r in ranked if r.kind == "baseline" and r.key in ranks), None)
    versus: dict[str, Any] = {}
    if neural is not None and baseline is not None and neural.key in ranks:
        versus = {"neural": neural.label, "baseline": baseline.label,
                  "paired": paired_differences(ranks[neural.key],
                                               {baseline.label: ranks[baseline.key]},
                                               PAIRED, sessions)[baseline.label]}
    output = {
        "target": target.label, "metric": metric, "max_len": config.max_len, "fit_on": config.fit_on,
        "budget": config.budget, "seconds": time.time() - search.start,
        "stopped": stopped, "finished": time.time(),
        "test_targets": len(final.test), "report_split": "test" if len(target.split.test) else "valid",
        "methods": [dataclasses.asdict(r) for r in ranked],
        "winner": winner.key if winner else None,
        "best_neural": neural.key if neural else None,
        "paired": paired,
        "neural_vs_baseline": versus,
        "best_baseline": baseline.key if baseline else None,
        "against": against_best(ranked, ranks, sessions),
        "oracle": oracle,
    }
    runs.write_json(target.folder / RESULT_FILE, output)
    return output


def _oracle(search: _Search, final: _Final) -> dict[str, float] | None:
    """The oracle's test scores on a simulated world (the ceiling beside the tuned methods)."""
    from streamrec.world.oracle import Oracle

    target = search.target
    try:
        metrics, _ = evaluate_scorer(Oracle().fit(target.data, final.fit), target.data, final.test,
                                     search.config.max_len, CUTOFFS,
                                     should_stop=lambda: time.time() > search.end + 30)
    except StopRequested:
        return None
    return metrics


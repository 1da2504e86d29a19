"""From a run's config to its sessions and split: the simulator or an imported data set.

The one place that knows where data comes from; training, baselines, the CLI and the pages
ask it and then work on `SessionData` alone.
"""
from __future__ import annotations

from pathlib import Path

from streamrec.config import RunConfig
from streamrec.data.sessions import SessionData
from streamrec.data.splits import Split, make_split, split_given


def open_data(config: RunConfig, data_root: Path | None = None) -> tuple[SessionData, Split]:
    """The sessions and the train / validation / test split that `config` describes.

    Simulated data is generated from `config.sim` and split by `config.train.protocol`; an
    imported data set is loaded by name (its content hash checked when the config records one)
    and split into its own test sessions, the validation sessions its import set aside (or a
    validation part of the rest) and training.
    """
    if config.data.is_simulated:
        from streamrec.world.simulator import simulate

        data = simulate(config.sim)
        return data, make_split(data, config.train)
    from streamrec.data.datasets import DatasetError, load_dataset

    try:
        dataset = load_dataset(config.data.dataset, data_root)
    except DatasetError as exc:
        raise ValueError(str(exc)) from None
    expected = config.data.content_hash
    if expected and dataset.content_hash != expected:
        raise ValueError(
            f"data set {dataset.name!r} changed since this run was set up (content hash "
            f"{dataset.content_hash}, expected {expected}): re-import it or train a new run"
        )
    valid = dataset.valid_sessions if dataset.n_valid_sessions else None
    return dataset.data, split_given(dataset.data, dataset.test_sessions, config.train, valid)


def dataset_config(config: RunConfig, name: str, data_root: Path | None = None) -> RunConfig:
    """`config` pointed at imported data set `name`: its catalog size and content hash filled in."""
    import dataclasses

    from streamrec.config import DataConfig
    from streamrec.data.datasets import DatasetError, load_dataset

    try:
        dataset = load_dataset(name, data_root)
    except DatasetError as exc:
        raise ValueError(str(exc)) from None
    model = dataclasses.replace(config.model, n_items=dataset.data.n_items)
    data = DataConfig(source="dataset", dataset=name, content_hash=dataset.content_hash)
    return dataclasses.replace(config, model=model, data=data).validate()

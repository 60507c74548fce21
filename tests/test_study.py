"""The study's profiles and matrix cells: what dvc.yaml expands, and the pieces its stages call."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from entity_bert.core.fileio import sha256_file
from entity_bert.data.prepare import DataParams
from entity_bert.runs.config import RunConfig
from entity_bert.runs.data import subset_indexes
from entity_bert.study import stages as study
from entity_bert.study.layout import Layout

ROOT = Path(__file__).resolve().parents[1]
PROFILES = sorted((ROOT / "params" / "profiles").glob("*.yaml"))


def test_the_four_profiles_exist_and_the_active_one_is_default():
    assert [p.stem for p in PROFILES] == ["default", "full", "paper", "smoke"]
    active = (ROOT / "params" / "study.yaml").read_text("utf-8")
    assert active == (ROOT / "params" / "profiles" / "default.yaml").read_text("utf-8")


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.stem)
def test_every_cell_of_every_profile_is_a_valid_run(path, monkeypatch):
    monkeypatch.chdir(ROOT)
    profile = study.load_profile(path)
    assert profile["profile"] == path.stem
    assert set(profile) == {"profile", "report", "description", "study", "raw_text", "ablation", "tune"}
    settings = profile["study"]
    raw_text = profile["raw_text"]  # dvc.yaml's raw_text stage exports one of the profile's runs
    seed = int(raw_text["slot"].rsplit("seed", 1)[1])
    config = study.run_config(profile, raw_text["corpus"], "entity-bert", seed)
    # the corpus's default label set (the first in params/data.yaml), known without prepared data
    config.label_set = next(iter(DataParams.load(ROOT / "params" / "data.yaml").label_sets[config.corpus]))
    assert raw_text["slot"] == study.slot(config.corpus, "entity-bert", seed)
    assert raw_text["run"] == config.name
    assert set(settings["system_overrides"]) == set(settings["systems"])  # dvc.yaml reads each one
    assert len(settings["seeds"]) >= (3 if path.stem != "smoke" else 1)  # smoke: the pipeline, one seed
    for corpus in settings["corpora"]:
        for system in settings["systems"]:
            config = study.run_config(profile, corpus, system, settings["seeds"][0])
            assert config.model.name == system and config.corpus == corpus
            cell = study.slot(corpus, system, settings["seeds"][0])
            assert config.runs_dir == f"results/{path.stem}/runs/{cell}"
            assert config.checkpoints_dir == f"checkpoints/{path.stem}/{cell}"
            assert RunConfig.from_dict(config.to_dict()) == config
    grouped = settings["tables"]["table2"] + settings["tables"]["table3"]
    assert sorted(grouped) == sorted(settings["corpora"])


def test_overrides_apply_per_system_over_the_run_block(monkeypatch):
    monkeypatch.chdir(ROOT)
    profile = study.load_profile(ROOT / "params" / "profiles" / "default.yaml")
    template = study.run_config(profile, "ncbi-disease", "template", 13)
    tagger = study.run_config(profile, "ncbi-disease", "entity-bert", 13)
    run = profile["study"]["run"]
    assert tagger.max_train_sentences == run["max_train_sentences"] and tagger.regime == run["regime"]
    assert template.max_eval_sentences < tagger.max_eval_sentences
    assert template.model.span_max_words == 4 and tagger.model.span_max_words == 10


def test_dvc_yaml_spells_the_slot_as_the_code_does():
    stages = yaml.safe_load((ROOT / "pipelines" / "train" / "dvc.yaml").read_text("utf-8"))["stages"]
    outs = [next(iter(o)) if isinstance(o, dict) else o for o in stages["train"]["outs"]]
    pattern = study.slot("${item.corpus}", "${item.system}", "${item.seed}")
    layout = Layout.of({"profile": "${profile}"})
    assert outs == [str(layout.run_folder(pattern)), str(layout.checkpoint_folder(pattern))]


def test_use_profile_copies_a_profile_and_refuses_an_unknown_one(tmp_path):
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "smoke.yaml").write_text("profile: smoke\n", "utf-8")
    active = tmp_path / "study.yaml"
    study.use_profile("smoke", active, profiles)
    assert active.read_text("utf-8") == "profile: smoke\n"
    with pytest.raises(ValueError, match=r"no such profile.*smoke"):
        study.use_profile("nightly", active, profiles)


def test_nested_subsets_lie_inside_each_other_and_the_old_rule_is_unchanged():
    nested = RunConfig(corpus="x", label_set="all", subset_rule="nested", max_eval_sentences=25)
    larger = RunConfig(corpus="x", label_set="all", subset_rule="nested", max_eval_sentences=500)
    small, big = subset_indexes(nested, "test", 4797), subset_indexes(larger, "test", 4797)
    assert len(small) == 25 and len(big) == 500 and set(small) <= set(big)
    sample = RunConfig(corpus="x", label_set="all", max_eval_sentences=500)
    assert subset_indexes(sample, "test", 4797) == sorted(random.Random(0).sample(range(4797), 500))
    with pytest.raises(ValueError, match="subset_rule"):
        RunConfig(corpus="x", label_set="all", subset_rule="first")


def test_the_tiny_random_encoder_is_the_same_on_every_write(tmp_path):
    profile = {"study": {"encoder": "tiny-random", "encoder_seed": 0}}
    first = study.write_encoder(profile, tmp_path / "a")
    second = study.write_encoder(profile, tmp_path / "b")
    assert sha256_file(first / "model.safetensors") == sha256_file(second / "model.safetensors")
    assert (first / "tokenizer_config.json").is_file() and (first / "manifest.json").is_file()


def test_a_dev_cap_subsets_dev_alone_the_same_for_every_seed():
    capped = RunConfig(corpus="x", label_set="all", max_dev_sentences=1000)
    other_seed = RunConfig(corpus="x", label_set="all", max_dev_sentences=1000, seed=14)
    dev = subset_indexes(capped, "dev", 4581)
    assert len(dev) == 1000 and dev == subset_indexes(other_seed, "dev", 4581)
    assert subset_indexes(capped, "test", 4797) == list(range(4797))  # the test split stays whole
    assert subset_indexes(capped, "dev", 430) == list(range(430))  # a smaller dev split too
    both = RunConfig(corpus="x", label_set="all", max_dev_sentences=1000, max_eval_sentences=300)
    assert len(subset_indexes(both, "dev", 4581)) == 300  # the smaller limit wins

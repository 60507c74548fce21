"""The registry as the one place a system or a recurrent cell is added (the recipes of CONTRIBUTING.md).

A toy system is registered by one row and a toy cell by one entry; each then
trains through the shared engine with no other edit. The name lists every
command uses are derived from the rows.
"""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from entity_bert.models import recurrent, registry
from entity_bert.models.registry import System
from entity_bert.report.study_tables import TABLE_SYSTEMS
from entity_bert.training.evaluation import train_and_evaluate

from .synthetic import synthetic_run_config


class WordMLP(nn.Module):
    """A toy body: one hidden layer over each word vector on its own."""

    def __init__(self, size: int, hidden: int) -> None:
        super().__init__()
        self.layer = nn.Sequential(nn.Linear(size, hidden), nn.Tanh())
        self.output_size = hidden

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        return self.layer(x)


class LeftToRightTanhRNN(nn.Module):
    """A toy recurrent cell with the shape of our own cells: (input_size, hidden), [B, W, D] -> [B, W, H]."""

    def __init__(self, input_size: int, hidden: int) -> None:
        super().__init__()
        self.cell = nn.RNNCell(input_size, hidden, nonlinearity="tanh")
        self.hidden = self.output_size = hidden

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        state = x.new_zeros(x.shape[0], self.hidden)
        states = []
        for t in range(x.shape[1]):
            state = self.cell(x[:, t], state)
            states.append(state)
        return torch.stack(states, dim=1)


def test_name_lists_are_derived_from_the_rows():
    assert tuple(row.name for row in registry.ROWS) == registry.MODEL_NAMES
    paper = [row.name for row in registry.ROWS if row.group == "paper"]
    assert sorted(registry.SYSTEM_METHODS) == sorted(paper)
    assert list(TABLE_SYSTEMS) == [*registry.SYSTEM_METHODS, "hf-trainer"]  # the reference row after them
    assert all(TABLE_SYSTEMS[name] == registry.SYSTEMS[name].label for name in TABLE_SYSTEMS)
    assert registry.caches_features("entity-bert") and not registry.caches_features("mrc")
    assert registry.input_kind("crf") == "features" and registry.regimes("bilstm-crf") == ["scratch"]
    assert registry.regimes("entity-bert") == ["finetune", "frozen", "top"]
    assert registry.regimes("mrc") == ["finetune", "frozen"]  # reads its queries: no cached lower states
    assert registry.regimes("hf-trainer") == ["finetune"]
    with pytest.raises(ValueError, match="unknown model"):
        registry.regimes("no-such-system")


def test_a_toy_system_is_one_row_and_trains(corpus, tmp_path, monkeypatch):
    build = registry._tagger(lambda config, size: WordMLP(size, config.hidden))
    row = System("toy-mlp", build, "encoder", "softmax", citation="this test")
    monkeypatch.setitem(registry.SYSTEMS, row.name, row)
    config = synthetic_run_config(corpus, tmp_path, name="toy-mlp", epochs=1)
    assert config.name == "synth__all__toy-mlp__finetune__seed13"
    record = train_and_evaluate(config)
    assert record["model"] == "toy-mlp" and record["epochs_run"] == 1
    assert 0.0 <= record["decodings"]["constrained"]["scores"]["micro"]["f1"] <= 1.0
    assert (config.checkpoint_dir / "best" / "model.safetensors").exists()


def test_a_toy_cell_is_one_entry_and_trains(corpus, tmp_path, monkeypatch):
    monkeypatch.setitem(recurrent.OWN_CELLS, "tanh-rnn", LeftToRightTanhRNN)
    layer = recurrent.recurrent_layer("tanh-rnn", 8, 4)
    assert isinstance(layer, recurrent.Bidirectional)
    config = synthetic_run_config(corpus, tmp_path, epochs=1)
    config.model.cell = "tanh-rnn"
    assert config.variant == "entity-bert-tanh-rnn"
    record = train_and_evaluate(config)
    assert record["epochs_run"] == 1
    assert 0.0 <= record["decodings"]["constrained"]["scores"]["micro"]["f1"] <= 1.0

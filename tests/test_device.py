"""Devices and precision (core/device.py): `auto` means bf16 only where the hardware runs it natively."""

from __future__ import annotations

import pytest
import torch

from entity_bert.core import device as dev


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"avx2", "avx512f", "avx512_bf16"}, "bf16"),  # Zen 4, Sapphire Rapids
        ({"avx2", "amx_bf16"}, "bf16"),
        ({"avx2", "fma"}, "fp32"),  # bf16 emulated: several times slower than fp32
        (set(), "fp32"),  # no /proc/cpuinfo
    ],
)
def test_auto_picks_bf16_only_on_cpus_that_run_it_natively(monkeypatch, flags, expected):
    monkeypatch.setattr(dev, "cpu_flags", lambda: flags)
    monkeypatch.setattr(dev, "bf16_is_faster", lambda: True)
    assert dev.pick_precision("auto", torch.device("cpu")) == expected


def test_auto_keeps_fp32_where_the_bf16_instructions_are_measured_slower(monkeypatch):
    assert isinstance(dev.bf16_is_faster.__wrapped__(), bool)  # the real measurement runs here
    monkeypatch.setattr(dev, "cpu_flags", lambda: {"avx2", "avx512_bf16"})
    monkeypatch.setattr(dev, "bf16_is_faster", lambda: False)  # as on an Intel Xeon measured here
    assert dev.pick_precision("auto", torch.device("cpu")) == "fp32"


def test_a_pinned_precision_is_kept_and_an_unknown_one_refused(monkeypatch):
    monkeypatch.setattr(dev, "cpu_flags", lambda: {"avx2"})
    assert dev.pick_precision("bf16", torch.device("cpu")) == "bf16"
    assert dev.pick_precision("fp32", torch.device("cpu")) == "fp32"
    with pytest.raises(ValueError, match="precision must be one of auto, fp32, bf16"):
        dev.pick_precision("fp16", torch.device("cpu"))


def test_the_machine_record_names_the_cpu_and_measures_a_matmul_rate():
    found = dev.machine(torch.device("cpu"))
    assert found["cpu"] and found["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert found["matmul_gflops_fp32"] > 0 and found["threads"] == torch.get_num_threads()
    assert found["device"] == "cpu" and "gpu" not in found

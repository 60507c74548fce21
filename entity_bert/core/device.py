"""Where tensors run: the device by name, the precision a run asks for, and what the machine is.

Shared by training (:mod:`entity_bert.training.engine`) and serving
(:mod:`entity_bert.serve.recogniser`), so that serving never imports the
training engine.
"""

from __future__ import annotations

import functools
import platform
import time

import torch
from torch import Tensor


def pick_device(name: str) -> torch.device:
    """``auto``: CUDA when present, else the CPU; any other name as torch reads it."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def to_device(batch: dict[str, Tensor], device: torch.device) -> dict[str, Tensor]:
    return {key: value.to(device) for key, value in batch.items()}


def autocast(device: torch.device, precision: str) -> torch.autocast:
    """bf16 mixed precision (matrix products in bf16, reductions in fp32) when asked, else a no-op."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


PRECISIONS = ("auto", "fp32", "bf16")


def cpu_flags() -> set[str]:
    """The CPU's feature flags (``avx2``, ``avx512_bf16``, ``amx_bf16``...) from /proc/cpuinfo, or none."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_model() -> str:
    """The CPU's model name as the kernel reports it (``platform.processor()`` where there is no cpuinfo)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def native_bf16(device: torch.device) -> bool:
    """Whether bf16 is the faster precision on ``device``: a GPU with bf16, or a CPU that runs it natively.

    A CPU counts only if it has the instructions (AVX512-BF16 or AMX) *and* a
    bf16 matrix product of a typical layer's shape is measured faster than the
    fp32 one on it (:func:`bf16_is_faster`). Without the instructions bf16 is
    emulated (measured 7x slower than fp32 for prediction and 16x for a
    training epoch on an AVX2-only machine); with them it is not always
    faster either (an Intel Xeon with AVX512-BF16 here ran it 1.5x slower).
    """
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and bool(cpu_flags() & {"avx512_bf16", "amx_bf16"}) and bf16_is_faster()


@functools.lru_cache(maxsize=1)
def bf16_is_faster() -> bool:
    """A [1280, 384] x [384, 1536] product (a batch of 32 sentences through a feed-forward layer of
    all-MiniLM-L6-v2), best of 5, in bf16 against fp32 on this CPU: faster by 10% or more."""
    a, b = torch.randn(1280, 384), torch.randn(384, 1536)

    def best(x: Tensor, y: Tensor) -> float:
        x @ y  # warm-up
        times = []
        for _ in range(5):
            started = time.perf_counter()
            x @ y
            times.append(time.perf_counter() - started)
        return min(times)

    return best(a.bfloat16(), b.bfloat16()) < 0.9 * best(a, b)


def pick_precision(name: str, device: torch.device) -> str:
    """``auto``: bf16 where ``device`` runs it natively, else fp32; ``fp32`` or ``bf16`` as given."""
    if name not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {name!r}")
    if name == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    return name


def matmul_gflops(size: int = 1024, repeats: int = 5) -> float:
    """A short fp32 matrix-product rate on the CPU with torch's threads (GFLOP/s, best of ``repeats``).

    Recorded with every run, so timings from different machines can be told apart.
    """
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b  # warm-up
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - started)
    return round(2 * size**3 / best / 1e9, 1)


def machine(device: torch.device) -> dict:
    """What a run ran on: CPU model, torch's CPU capability, threads, a matmul rate, and the GPU if any."""
    found = {
        "cpu": cpu_model(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "native_bf16": native_bf16(torch.device("cpu")),
        "threads": torch.get_num_threads(),
        "matmul_gflops_fp32": matmul_gflops(),
        "device": str(device),
    }
    if device.type == "cuda":
        found["gpu"] = torch.cuda.get_device_name(device)
    return found

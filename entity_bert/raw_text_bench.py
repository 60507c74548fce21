"""``entity-bert bench --raw-text``: entities in raw documents, ours against Hugging Face's pipeline.

On the same device (CUDA when present, else the CPU), the same encoder,
the same documents (the raw ``.txt`` of a standoff corpus's test split)
and the same machine, each measurement in a fresh
process (:func:`entity_bert.bench.in_fresh_process`):

- ours: an exported model (``entity-bert export``) read by
  :class:`~entity_bert.recogniser.Recogniser`, from raw text to mentions
  with character offsets (sentence splitting, word pieces, windows, the
  model, decoding), in fp32 and in bf16 (autocast);
- Hugging Face: ``pipeline("token-classification",
  aggregation_strategy="simple")`` over ``AutoModelForTokenClassification``
  on the model's own encoder folder (a random classification head: speed does
  not depend on its weights), at its default batch size 1, given (a) each
  whole document with ``stride=64``, its way of reading a text longer than
  the encoder's 512 positions (without ``stride`` it would silently
  truncate), and (b) each line of each document (also with ``stride``).

Figures are documents, sentences-equivalent characters and seconds; the
ratios are throughputs within this run (target: ours >= 3x the pipeline).
Quality is checked beside speed: the span-level F1 against the corpus's gold
``.ann`` of our fp32 and bf16 outputs (:mod:`entity_bert.span_eval`).
Output: ``results/bench/raw_text.json`` and ``raw_text.md``.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .bench import in_fresh_process, peak_mb
from .fileio import atomic_write_text

TARGET = 3.0


@dataclass
class RawTextBench:
    model: str = "models/maccrobat2020__entity-bert__seed13"  # written by the raw_text DVC stage
    corpus: str = "maccrobat2020"
    split: str = "test"
    documents: int | None = None  # the first N documents (all by default)
    stride: int = 64  # Hugging Face's overlap between 512-piece chunks
    params: str = "params/data.yaml"
    out_dir: str = "results/bench"


def _documents(bench: RawTextBench):
    """The first ``bench.documents`` documents of the split (sorted by id), with their gold source."""
    from .prepare import DataParams
    from .span_eval import test_documents

    documents = test_documents(bench.corpus, bench.split, _label_set(bench), DataParams.load(bench.params))
    documents.texts = dict(sorted(documents.texts.items())[: bench.documents])
    return documents


def _texts(bench: RawTextBench) -> tuple[list[str], list[str]]:
    texts = _documents(bench).texts
    return list(texts), [path.read_text("utf-8") for path in texts.values()]


def _label_set(bench: RawTextBench) -> str:
    return json.loads((Path(bench.model) / "manifest.json").read_text("utf-8"))["trained"]["label_set"]


def _ours(bench: RawTextBench, precision: str) -> dict:
    from .recogniser import Recogniser, sentences_of

    names, texts = _texts(bench)
    recognise = Recogniser.load(bench.model, "auto", precision)
    recognise(texts[:2])  # warm-up
    started = time.perf_counter()
    found = recognise(texts)
    seconds = time.perf_counter() - started
    mentions = [(doc, m.start, m.end, m.type) for doc, ms in zip(names, found, strict=True) for m in ms]
    return {
        "documents": len(texts),
        "characters": sum(len(t) for t in texts),
        "sentences": sum(len(sentences_of(t)) for t in texts),
        "seconds": seconds,
        "peak_mb": peak_mb(),
        "mentions": mentions,
    }


def _hf(bench: RawTextBench, unit: str) -> dict:
    import torch
    import transformers
    from transformers import AutoModelForTokenClassification, AutoTokenizer, pipeline

    transformers.logging.set_verbosity_error()
    _, texts = _texts(bench)
    folder = Path(bench.model) / "encoder"
    labels = len(json.loads((Path(bench.model) / "labels.json").read_text("utf-8")))
    torch.manual_seed(13)
    model = AutoModelForTokenClassification.from_pretrained(folder, num_labels=labels)
    tagger = pipeline(
        "token-classification",
        model=model,
        tokenizer=AutoTokenizer.from_pretrained(folder),
        aggregation_strategy="simple",
        stride=bench.stride,
        device="cuda" if torch.cuda.is_available() else "cpu",
    )
    inputs = (
        texts
        if unit == "documents"
        else [line for t in texts for line in re.findall(r"[^\r\n]*\S[^\r\n]*", t)]
    )
    tagger(inputs[:2])  # warm-up
    started = time.perf_counter()
    tagger(inputs)
    seconds = time.perf_counter() - started
    return {
        "documents": len(texts),
        "characters": sum(len(t) for t in texts),
        "inputs": len(inputs),
        "seconds": seconds,
        "peak_mb": peak_mb(),
    }


def run_bench(bench: RawTextBench) -> dict:
    """Measure, write ``raw_text.json`` and ``raw_text.md``, and return the result."""
    import torch

    from .prepare import DataParams
    from .span_eval import corpus_gold, span_scores

    measured = {
        "ours_fp32": in_fresh_process(_ours, bench, "fp32"),
        "ours_bf16": in_fresh_process(_ours, bench, "bf16"),
        "hf_pipeline_documents": in_fresh_process(_hf, bench, "documents"),
        "hf_pipeline_lines": in_fresh_process(_hf, bench, "lines"),
    }
    fp32, bf16 = (set(map(tuple, measured[k].pop("mentions"))) for k in ("ours_fp32", "ours_bf16"))
    gold = corpus_gold(_documents(bench), DataParams.load(bench.params))

    def rate(name: str) -> float:
        return measured[name]["documents"] / measured[name]["seconds"]

    ratios = {
        f"{ours}_vs_{hf}": rate(ours) / rate(hf)
        for ours in ("ours_fp32", "ours_bf16")
        for hf in ("hf_pipeline_documents", "hf_pipeline_lines")
    }
    result = {
        "config": asdict(bench),
        "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
        "threads": torch.get_num_threads(),
        "measured": measured,
        "ratios": ratios,
        "target": f">= {TARGET} (ours against the pipeline)",
        "span_f1": {
            "ours_fp32": span_scores(gold, fp32)["micro"],
            "ours_bf16": span_scores(gold, bf16)["micro"],
        },
        "bf16_mentions_equal_to_fp32": len(fp32 & bf16) / max(len(fp32 | bf16), 1),
    }
    out = Path(bench.out_dir)
    atomic_write_text(out / "raw_text.json", json.dumps(result, indent=1) + "\n")
    atomic_write_text(out / "raw_text.md", format_result(result))
    return result


def format_result(result: dict) -> str:
    config, measured = result["config"], result["measured"]
    first = measured["ours_fp32"]
    lines = [
        "# Benchmark: raw documents, ours against Hugging Face's pipeline",
        "",
        f"{first['documents']} raw {config['split']} documents of {config['corpus']} ({first['characters']} "
        f"characters, {first['sentences']} sentences as we split them); model {config['model']}; "
        f"device {result.get('device', 'cpu')}, {result['threads']} CPU threads; each row in a fresh "
        "process. Hugging Face: "
        '`pipeline("token-classification", aggregation_strategy="simple")` on the same encoder, batch '
        f"size 1, stride {config['stride']}.",
        "",
        "| measurement | documents | seconds | documents/s | characters/s | peak memory (MB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, row in measured.items():
        lines.append(
            f"| {name} | {row['documents']} | {row['seconds']:.2f} | {row['documents'] / row['seconds']:.2f} "
            f"| {row['characters'] / row['seconds']:.0f} | {row['peak_mb']:.0f} |"
        )
    lines += ["", f"| throughput ratio | value | target {result['target']} |", "|---|---:|---|"]
    for name, value in result["ratios"].items():
        lines.append(f"| {name} | {value:.2f} | {'met' if value >= TARGET else 'not met'} |")
    f1 = result["span_f1"]
    lines += [
        "",
        f"Quality of the timed outputs (span level against the corpus's gold .ann): fp32 F1 "
        f"{f1['ours_fp32']['f1']:.4f}, bf16 F1 {f1['ours_bf16']['f1']:.4f}; "
        f"{100 * result['bf16_mentions_equal_to_fp32']:.2f}% of the mentions are the same in both.",
    ]
    return "\n".join(lines) + "\n"

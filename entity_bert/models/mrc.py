"""MRC-NER: named entity recognition as machine reading comprehension, one query per entity type.

Li, Feng, Meng, Han, Wu and Li (2020), "A Unified MRC Framework for Named
Entity Recognition", ACL 2020, arXiv 1910.11476, section 3 (equations are cited
by section: their numbers differ between the paper's versions). Every entity
type t has a natural-language query q_t (``params/mrc_queries.yaml``, written
as the paper's best kind of query, annotation-guideline notes: "Find diseases,
including ..."). For a sentence X of n words and every type t, the encoder reads

    [CLS] q_t [SEP] X [SEP]                            section 3.3.1 (query segment 0, sentence 1)
    E = encoder(...) in R^{n x d}                      one row per word: its first word piece's state

and three heads find the type-t entities as spans (i, j), words i..j (section 3.3.2):

    P_start = sigmoid(E T_start) in R^n                T_start in R^{d x 1}
    P_end   = sigmoid(E T_end)   in R^n
    I_start = {i : P_start,i > 0.5},  I_end = {j : P_end,j > 0.5}
    P_match(i, j) = sigmoid(m(concat(E_i, E_j)))       i in I_start, j in I_end, i <= j

Training (section 3.4), binary cross-entropy for each head:

    L = a L_start + b L_end + g L_match,  a = b = g = 1
    L_start, L_end: over every word of the sentence, gold 1 at entity starts / ends
    L_match: over the candidate pairs (i, j), i <= j, of at most ``span_max_words`` words
             whose start and end are both gold or both predicted (P > 0.5), gold 1 when (i, j)
             is a type-t entity (the authors' code calls this choice "pred_and_gold").
    All three are means over their words or pairs, over all types of the batch.

Decoding: the spans whose start, end and match probabilities are all above 0.5,
for every type. Types are decoded independently, so one word may end up in
spans of two types; our corpora are flat, so the clashes are resolved by flat
decoding (:func:`.span_decoding.decode_flat`: highest score first, no overlaps)
with the score P_start,i * P_end,j * P_match(i, j), the joint probability of the
three decisions, before the spans become IOB2 tags
(:func:`.span_decoding.spans_to_indexes`).

Cost: T types make T copies of every sentence, each longer by its query; all T
copies of a batch go through the encoder in one call. In the frozen regime the
fixed encoder runs under ``no_grad`` (the states depend on the query, so the
regime's cache of sentence features cannot serve); while training, its states
are memoised per query-sentence row (:meth:`MRCNER.memoise`, turned on by the
training engine), so only the first epoch and the first validation pay for
the encoder. Test scoring and timing run it live.

Where we deviate from the paper, and why:
- m is a linear map in the paper; as in the authors' released code
  (``MultiNonLinearClassifier``), it is a two-layer perceptron
  m(x) = w_2 . dropout(GELU(W_1 x + b_1)) + b_2 with d hidden units. A linear m
  scores a pair as a start term plus an end term, with no interaction between
  the two words; the perceptron can compare them. W_1 concat(E_i, E_j) is
  computed as W_1s E_i + W_1e E_j, once per word rather than per pair (the same
  function, fewer operations).
- The paper writes P_start as a two-way softmax per word (T_start in R^{d x 2});
  a sigmoid of one logit is the same model with one weight vector fewer (and
  what the released code does).
- Candidate spans are limited to ``span_max_words`` words (the paper has no
  limit; longer gold entities are still labelled as starts and ends, but are
  never matched), and the flat-corpus clash resolution above is ours (the
  paper targets nested NER too and keeps every matched span).
- Words are represented by their first piece; a sentence longer than the
  encoder window comes in several windows (:mod:`entity_bert.models.encoder`), each
  prefixed with the query.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
import yaml
from torch import Tensor, nn

from entity_bert.core.errors import InputError
from entity_bert.data.iob2 import tag_types
from entity_bert.models.config import EncoderSpec
from entity_bert.models.encoder import load_tokenizer
from entity_bert.models.span_decoding import Span, decode_flat, gold_spans, spans_to_indexes
from entity_bert.models.tagger import EncoderSource, NERModel

THRESHOLD = 0.5  # P_start, P_end and P_match above this are decisions (section 3.3.2)


def load_queries(path: str | Path, types: list[str]) -> list[str]:
    """The query of each of ``types``, in order, from a YAML mapping ``type: query``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, "MRC queries file not found (set model.mrc_queries)")
    content = yaml.safe_load(path.read_text("utf-8"))
    if not isinstance(content, dict):
        raise InputError(path, None, "MRC queries must be a mapping 'entity type: query'")
    missing = [t for t in types if not isinstance(content.get(t), str) or not content[t].strip()]
    if missing:
        raise InputError(path, None, f"no MRC query for entity type(s) {', '.join(missing)}")
    return [content[t].strip() for t in types]


def query_windows(
    query_ids: Tensor,
    input_ids: Tensor,
    attention_mask: Tensor,
    word_index: Tensor,
    cls_id: int,
    sep_id: int,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Every window ``[CLS] x [SEP]`` as ``[CLS] q_t [SEP] x [SEP]`` for each query t; where words went.

    ``query_ids`` [T, Q] piece ids of the queries, right-padded with 0;
    ``input_ids``/``attention_mask`` [W, L] the batch's windows; ``word_index``
    [B, n] flat indexes into W * L. Returns piece ids, attention mask and
    segment ids [T * W, L'] (type t's copy of window w is row t * W + w) and the
    words' flat indexes into (T * W) * L', [T, B, n].
    """
    (types, longest), (windows, length) = query_ids.shape, input_ids.shape
    device = input_ids.device
    prefix_length = (query_ids != 0).sum(dim=1) + 2  # P_t: [CLS] q_t [SEP]
    width = longest + 2 + length - 1  # the sentence's own [CLS] is replaced by the prefix
    positions = torch.arange(longest + 2, device=device)
    prefix = torch.cat(
        [torch.full((types, 1), cls_id, device=device), query_ids, torch.zeros_like(query_ids[:, :1])], dim=1
    )
    prefix = prefix.scatter(1, (prefix_length - 1).unsqueeze(1), sep_id)
    in_prefix = positions < prefix_length.unsqueeze(1)  # [T, Q + 2]
    ids = torch.zeros(types, windows, width, dtype=input_ids.dtype, device=device)
    mask = torch.zeros(types, windows, width, dtype=attention_mask.dtype, device=device)
    ids[:, :, : longest + 2] = (prefix * in_prefix).unsqueeze(1)
    mask[:, :, : longest + 2] = in_prefix.unsqueeze(1).to(mask.dtype)
    # window piece p >= 1 goes to P_t - 1 + p
    target = (prefix_length.view(types, 1, 1) - 1 + torch.arange(1, length, device=device)).expand(
        types, windows, length - 1
    )
    ids.scatter_(2, target, input_ids[:, 1:].expand(types, windows, length - 1))
    mask.scatter_(2, target, attention_mask[:, 1:].expand(types, windows, length - 1))
    after_prefix = torch.arange(width, device=device) >= prefix_length.view(types, 1, 1)
    segments = (after_prefix & (mask > 0)).long()
    window, piece = word_index // length, word_index % length
    copy = torch.arange(types, device=device).view(types, 1, 1) * windows + window  # [T, B, n]
    shifted = copy * width + prefix_length.view(types, 1, 1) - 1 + piece
    return ids.flatten(0, 1), mask.flatten(0, 1), segments.flatten(0, 1), shifted


class MRCNER(NERModel):
    """Query-conditioned encoder, start/end pointers and span matching; flat spans -> IOB2."""

    def __init__(
        self,
        source: EncoderSource,
        tags: list[str],
        query_ids: list[list[int]],
        cls_id: int,
        sep_id: int,
        max_words: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.source = source  # keeps the encoder's parameters named source.word_encoder.*
        self.tags = tags
        self.types = tag_types(tags)
        longest = max(len(q) for q in query_ids)
        padded = [q + [0] * (longest - len(q)) for q in query_ids]
        self.register_buffer("query_ids", torch.tensor(padded, dtype=torch.long))  # saved with checkpoints
        self.cls_id, self.sep_id, self.max_words = cls_id, sep_id, max_words
        size = source.output_size
        self.dropout = nn.Dropout(dropout)
        self.start = nn.Linear(size, 1)  # T_start
        self.end = nn.Linear(size, 1)  # T_end
        self.match_start = nn.Linear(size, size)  # m's first layer W_1 = [W_1s, W_1e], b_1
        self.match_end = nn.Linear(size, size, bias=False)
        self.match_out = nn.Linear(size, 1)  # w_2, b_2
        self.memo: dict[bytes, Tensor] | None = None  # frozen encoder states by input row, while training

    def memoise(self, enabled: bool) -> None:
        """Keep (or drop) the frozen encoder's states of every row it has read.

        In the frozen regime E depends only on the row [CLS] q_t [SEP] x [SEP],
        so later epochs and validations can read it back; the engine turns this
        on for training and off (freeing the memory) before test scoring.
        """
        self.memo = {} if enabled and self.source.frozen else None

    def _memoised_states(self, encoder: nn.Module, ids: Tensor, mask: Tensor, segments: Tensor) -> Tensor:
        """The encoder's last hidden states of the rows, each computed once (rows are mask prefixes)."""
        lengths = mask.sum(dim=1).tolist()
        keys = [ids[r, :n].cpu().numpy().tobytes() for r, n in enumerate(lengths)]
        first_rows: dict[bytes, int] = {}  # the rows to compute: the first of each key not memoised yet
        for r, key in enumerate(keys):
            if key not in self.memo:
                first_rows.setdefault(key, r)
        missing = list(first_rows.values())
        if missing:
            rows = torch.tensor(missing, device=ids.device)
            fresh = encoder(input_ids=ids[rows], attention_mask=mask[rows], token_type_ids=segments[rows])
            for k, r in enumerate(missing):
                self.memo[keys[r]] = fresh.last_hidden_state[k, : lengths[r]].clone()
        states = torch.zeros(*ids.shape, encoder.config.hidden_size, device=ids.device)
        for r, key in enumerate(keys):
            states[r, : lengths[r]] = self.memo[key]
        return states

    def word_states(self, batch: dict[str, Tensor]) -> Tensor:
        """E of every type's copy of every sentence: [T, B, n, d]."""
        if "input_ids" not in batch:
            raise ValueError("MRC-NER reads query and sentence together: it needs input_ids, not features")
        windows = batch["input_ids"], batch["attention_mask"], batch["word_index"]
        ids, mask, segments, index = query_windows(self.query_ids, *windows, self.cls_id, self.sep_id)
        encoder = self.source.word_encoder.encoder
        if encoder.config.type_vocab_size < 2:
            segments = torch.zeros_like(segments)
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.source.frozen):
            if self.memo is not None:
                states = self._memoised_states(encoder, ids, mask, segments)
            else:
                states = encoder(
                    input_ids=ids, attention_mask=mask, token_type_ids=segments
                ).last_hidden_state
        return states.reshape(-1, states.shape[-1])[index]

    def pointers(self, batch: dict[str, Tensor]) -> tuple[Tensor, Tensor, Tensor]:
        """E (after dropout), start and end logits [T, B, n] (fp32)."""
        states = self.dropout(self.word_states(batch))
        return states, self.start(states).squeeze(-1).float(), self.end(states).squeeze(-1).float()

    def match_logits(self, states: Tensor, pairs: Tensor) -> Tensor:
        """m(concat(E_i, E_j)) of each pair ``(t, b, i, j)`` (rows of ``pairs``), fp32."""
        t, b, i, j = pairs.unbind(dim=1)
        if len(pairs) > states[..., 0].numel():  # more pairs than words: project each word once
            hidden = F.gelu(self.match_start(states)[t, b, i] + self.match_end(states)[t, b, j])
        else:
            hidden = F.gelu(self.match_start(states[t, b, i]) + self.match_end(states[t, b, j]))
        return self.match_out(self.dropout(hidden)).squeeze(-1).float()

    def allowed_pairs(self, mask: Tensor) -> Tensor:
        """[1, B, n, n]: i <= j < i + span_max_words, both words of the sentence."""
        n = mask.shape[1]
        offset = torch.arange(n, device=mask.device)
        width = offset.view(1, n) - offset.view(n, 1)  # j - i
        band = (width >= 0) & (width < self.max_words)
        return (band & mask.unsqueeze(2) & mask.unsqueeze(1)).unsqueeze(0)

    def gold(self, labels: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Gold starts and ends [T, B, n] and gold spans [T, B, n, n] (first word, last word)."""
        types, (size, n) = len(self.types), labels.shape
        index = {t: k for k, t in enumerate(self.types)}
        spans = [
            (index[kind], b, first, end - 1)
            for b, row in enumerate(labels.tolist())
            for first, end, kind in gold_spans(row, self.tags)
        ]
        device = labels.device
        starts = torch.zeros(types, size, n, dtype=torch.bool, device=device)
        ends = torch.zeros_like(starts)
        matches = torch.zeros(types, size, n, n, dtype=torch.bool, device=device)
        if spans:
            t, b, i, j = torch.tensor(spans, device=device).unbind(dim=1)
            starts[t, b, i] = True
            ends[t, b, j] = True
            matches[t, b, i, j] = True
        return starts, ends, matches

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        """L_start + L_end + L_match (section 3.4), binary cross-entropy each."""
        states, start, end = self.pointers(batch)
        mask = batch["mask"].unsqueeze(0).expand_as(start)
        gold_start, gold_end, gold_match = self.gold(batch["labels"])
        start_loss = F.binary_cross_entropy_with_logits(start[mask], gold_start[mask].float())
        end_loss = F.binary_cross_entropy_with_logits(end[mask], gold_end[mask].float())
        predicted = (start > 0).unsqueeze(3) & (end > 0).unsqueeze(2)
        gold = gold_start.unsqueeze(3) & gold_end.unsqueeze(2)
        pairs = ((predicted | gold) & self.allowed_pairs(batch["mask"])).nonzero()
        if len(pairs) == 0:
            return start_loss + end_loss
        t, b, i, j = pairs.unbind(dim=1)
        match_loss = F.binary_cross_entropy_with_logits(
            self.match_logits(states, pairs), gold_match[t, b, i, j].float()
        )
        return start_loss + end_loss + match_loss

    def decode(self, batch: dict[str, Tensor]) -> list[list[int]]:
        states, start, end = self.pointers(batch)
        allowed = self.allowed_pairs(batch["mask"])
        scored = matched_spans(
            start.sigmoid(),
            end.sigmoid(),
            allowed,
            lambda p: self.match_logits(states, p).sigmoid(),
            self.types,
        )
        return flat_indexes(scored, batch["mask"].sum(dim=1).tolist(), self.tags)


def matched_spans(
    start: Tensor, end: Tensor, allowed: Tensor, match: Callable[[Tensor], Tensor], types: list[str]
) -> list[list[tuple[float, Span]]]:
    """Per sentence, the matched spans of every type, scored P_start,i * P_end,j * P_match(i, j).

    ``start``/``end`` [T, B, n] probabilities; ``allowed`` [1, B, n, n] the
    candidate pairs (i, j); ``match`` gives P_match of pairs ``(t, b, i, j)``.
    """
    chosen = (start > THRESHOLD).unsqueeze(3) & (end > THRESHOLD).unsqueeze(2)
    pairs = (chosen & allowed).nonzero()
    t, b, i, j = pairs.unbind(dim=1)
    probability = match(pairs)
    keep = probability > THRESHOLD
    score = (start[t, b, i] * end[t, b, j] * probability)[keep]
    found: list[list[tuple[float, Span]]] = [[] for _ in range(start.shape[1])]
    rows = zip(t[keep].tolist(), b[keep].tolist(), i[keep].tolist(), j[keep].tolist(), strict=True)
    for (kind, sentence, first, last), p in zip(rows, score.tolist(), strict=True):
        found[sentence].append((p, (first, last + 1, types[kind])))
    return found


def flat_indexes(
    scored: list[list[tuple[float, Span]]], lengths: list[int], tags: list[str]
) -> list[list[int]]:
    """IOB2 tag indexes per sentence: the best spans without overlaps across types (flat corpora)."""
    return [spans_to_indexes(n, decode_flat(spans), tags) for spans, n in zip(scored, lengths, strict=True)]


def build(config, tags: list[str], source: EncoderSource, encoder: EncoderSpec) -> MRCNER:
    """The model, from the shared encoder source (``registry.build_tagger`` calls this)."""
    types = tag_types(tags)
    tokenizer = load_tokenizer(encoder)
    queries = load_queries(config.mrc_queries, types)
    query_ids = tokenizer(queries, add_special_tokens=False)["input_ids"]
    positions = source.word_encoder.encoder.config.max_position_embeddings
    needed = max(len(q) for q in query_ids) + 2 + encoder.window - 1
    if needed > positions:
        raise ValueError(
            f"MRC: the longest query ({max(len(q) for q in query_ids)} pieces, {config.mrc_queries}) plus "
            f"an encoder window of {encoder.window} need {needed} positions; the encoder has {positions}: "
            "shorten the queries or lower encoder.window"
        )
    special = tokenizer.cls_token_id, tokenizer.sep_token_id
    return MRCNER(source, tags, query_ids, *special, config.span_max_words, config.dropout)

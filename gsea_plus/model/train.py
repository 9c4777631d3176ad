"""Training the gene set autoencoder with PyTorch (the only module that imports torch).

The first layer is applied to the sparse multi-hot input through ``embedding_bag`` (a
sum of weight columns), so a step costs O(genes in the batch) there instead of
O(batch x vocabulary). Weights are written in the published GSFM layout
(``encoder.layers.{0,3,...}``, ``decoder.layers.*``) so that the numpy inference of
:mod:`gsea_plus.model.network` reads them, and checkpoints (weights, Adam moments,
scheduler and history) are safetensors + JSON: no pickle anywhere.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gsea_plus.errors import InputError, ModelError, require
from gsea_plus.model.config import ModelConfig, TrainConfig
from gsea_plus.model.vocab import Vocab

log = logging.getLogger(__name__)

__all__ = ["TrainResult", "encode_sets", "load_published_state", "published_state", "train_model"]

CHECKPOINT = "checkpoint.safetensors"
CHECKPOINT_STATE = "checkpoint.json"


def _torch():
    return require("torch", "train", "training a model")


@dataclass
class TrainResult:
    """Where the trained model was written and how training went."""

    directory: Path
    history: list[dict[str, float]] = field(default_factory=list)
    epochs: int = 0
    seconds: float = 0.0
    stopped: str = ""


def encode_sets(sets: Sequence[Sequence[str]], vocab: Vocab) -> tuple[np.ndarray, np.ndarray]:
    """Sets of symbols -> CSR (indptr, indices) over the vocabulary (unknown genes dropped)."""
    index = vocab.index
    indptr = np.zeros(len(sets) + 1, dtype=np.int64)
    chunks = []
    for i, genes in enumerate(sets):
        ids = np.fromiter((index[g] for g in genes if g in index), dtype=np.int64)
        chunks.append(np.unique(ids))
        indptr[i + 1] = indptr[i] + len(chunks[-1])
    indices = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
    return indptr, indices


def _build_module(config: ModelConfig):
    torch = _torch()
    nn = torch.nn
    module_base: Any = nn.Module  # torch is imported here only, so mypy sees no class

    class BagLinear(module_base):
        """A Linear layer whose weight is stored transposed (in x out) for embedding_bag.

        The gather over a contiguous (vocabulary x width) table is several times faster
        than over the transposed view of a (width x vocabulary) weight.
        """

        def __init__(self, n_in: int, n_out: int):
            super().__init__()
            ref = nn.Linear(n_in, n_out)  # the same initialisation as nn.Linear
            self.weight_t = nn.Parameter(ref.weight.detach().t().contiguous())
            self.bias = nn.Parameter(ref.bias.detach().clone())

        def forward(self, x):
            return x @ self.weight_t + self.bias

        def bags(self, indices, offsets, weights=None):
            return (
                torch.nn.functional.embedding_bag(
                    indices, self.weight_t, offsets, mode="sum", per_sample_weights=weights
                )
                + self.bias
            )

    class MLP(module_base):
        def __init__(self, dims: list[int], dropout: float, *, bag: bool = False):
            super().__init__()
            layers: list[Any] = []
            for k in range(len(dims) - 1):
                first = bag and k == 0
                layers.append(
                    BagLinear(dims[k], dims[k + 1]) if first else nn.Linear(dims[k], dims[k + 1])
                )
                if k < len(dims) - 2:
                    layers += [nn.ReLU(), nn.Dropout(dropout)]
            self.layers = nn.Sequential(*layers)

    class Autoencoder(module_base):
        """The published GSFM autoencoder (module names match its checkpoints)."""

        def __init__(self, config: ModelConfig):
            super().__init__()
            self.encoder = MLP(config.encoder_dims, config.dropout, bag=True)
            self.decoder = MLP(config.decoder_dims, config.dropout)

        def encode_bags(self, indices, offsets, weights=None):
            h = self.encoder.layers[0].bags(indices, offsets, weights)
            for layer in list(self.encoder.layers)[1:]:
                h = layer(h)
            return h

        def forward_bags(self, indices, offsets, weights=None):
            return self.decoder.layers(self.encode_bags(indices, offsets, weights))

        def forward(self, x):  # dense multi-hot input, as the published model
            return self.decoder.layers(self.encoder.layers(x))

    return Autoencoder(config)


def _batch_tensors(
    torch,
    indptr: np.ndarray,
    indices: np.ndarray,
    rows: np.ndarray,
    partition: float,
    rng: np.random.Generator,
    vocab_size: int,
    device: Any,
):
    """Input bags and dense targets for a batch of sets, hiding ``partition`` of each."""
    in_idx, in_off, tgt_rows, tgt_cols = [], [], [], []
    pos = 0
    for b, r in enumerate(rows):
        genes = indices[indptr[r] : indptr[r + 1]]
        if partition > 0 and len(genes) > 1:
            perm = rng.permutation(len(genes))
            n_in = max(1, int(round(len(genes) * (1.0 - partition))))
            shown, hidden = genes[perm[:n_in]], genes[perm[n_in:]]
            if len(hidden) == 0:
                hidden = genes
        else:
            shown = hidden = genes
        in_off.append(pos)
        in_idx.append(shown)
        pos += len(shown)
        tgt_rows.append(np.full(len(hidden), b))
        tgt_cols.append(hidden)
    target = torch.zeros((len(rows), vocab_size), dtype=torch.float32)
    target[
        torch.from_numpy(np.concatenate(tgt_rows)), torch.from_numpy(np.concatenate(tgt_cols))
    ] = 1
    return (
        torch.from_numpy(np.concatenate(in_idx)).to(device),
        torch.tensor(in_off, dtype=torch.int64, device=device),
        target.to(device),
    )


def _loss(torch, logits, target, kind: str):
    # <unk> and <pad> are never targets; keep them out of the softmax too.
    logits = logits[:, 2:]
    target = target[:, 2:]
    if kind == "softmax":
        logp = torch.log_softmax(logits, dim=1)
        per_set = -(logp * target).sum(1) / target.sum(1).clamp(min=1)
        return per_set.mean()
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, target)


def _state_tensors(module, optimizer) -> dict[str, Any]:
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    names = {id(p): n for n, p in module.named_parameters()}
    for group in optimizer.param_groups:
        for p in group["params"]:
            st = optimizer.state.get(p)
            if not st:
                continue
            for key in ("exp_avg", "exp_avg_sq"):
                tensors[f"optim.{names[id(p)]}.{key}"] = st[key].detach().cpu().contiguous()
            step = st["step"]
            tensors[f"optim.{names[id(p)]}.step"] = _torch().tensor([float(step)])
    return tensors


def _load_state(torch, module, optimizer, tensors: dict[str, Any]) -> None:
    model_state = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
    module.load_state_dict(model_state)
    for name, p in module.named_parameters():
        key = f"optim.{name}"
        if f"{key}.exp_avg" in tensors:
            optimizer.state[p] = {
                "step": torch.tensor(float(tensors[f"{key}.step"][0])),
                "exp_avg": tensors[f"{key}.exp_avg"].to(p.device),
                "exp_avg_sq": tensors[f"{key}.exp_avg_sq"].to(p.device),
            }


@dataclass
class _Data:
    """The corpus encoded over the vocabulary, split into training and validation rows."""

    vocab: Vocab
    config: ModelConfig
    indptr: np.ndarray
    indices: np.ndarray
    train_rows: np.ndarray
    val_rows: np.ndarray


@dataclass
class _State:
    """Where training stands: what a checkpoint saves and a resume restores."""

    history: list[dict[str, float]] = field(default_factory=list)
    start_epoch: int = 0
    best: float = math.inf
    stale: int = 0


def _read_sets(corpus: str | Path | Sequence[Sequence[str]]) -> list[Sequence[str]]:
    """The corpus sets: from a GMT file, or upper-cased from a list of gene lists."""
    if isinstance(corpus, (str, Path)):
        from gsea_plus.library.gmt import read_gmt

        sets: list[Sequence[str]] = [gs.genes for gs in read_gmt(corpus)]
    else:
        sets = [tuple(str(g).upper() for g in s) for s in corpus]
    if len(sets) < 2:
        raise InputError("training needs at least two gene sets")
    return sets


def _encode_corpus(
    sets: Sequence[Sequence[str]],
    base: ModelConfig | None,
    vocab: Vocab | None,
    min_sets: int,
) -> tuple[Vocab, ModelConfig, np.ndarray, np.ndarray, np.ndarray]:
    """The vocabulary, the config sized to it, the CSR sets and the usable set rows."""
    from gsea_plus.model.corpus import build_vocab

    if vocab is None:
        from gsea_plus.library.gmt import GeneSet

        vocab = Vocab(build_vocab((GeneSet("", "", tuple(s)) for s in sets), min_sets=min_sets))
    base = base or ModelConfig(vocab_size=len(vocab))
    config = ModelConfig.from_dict({**base.to_dict(), "vocab_size": len(vocab)})
    indptr, indices = encode_sets(sets, vocab)
    usable = np.flatnonzero(np.diff(indptr) >= 2)
    if len(usable) < 2:
        raise InputError("fewer than two sets have two or more vocabulary genes")
    return vocab, config, indptr, indices, usable


def _split_rows(
    usable: np.ndarray, train: TrainConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded validation rows (sorted) and training rows (in permuted order)."""
    perm = rng.permutation(usable)
    n_val = max(1, int(round(len(perm) * train.val_fraction)))
    return np.sort(perm[:n_val]), perm[n_val:]


def _optimizer(torch, module, train: TrainConfig, dev):
    """Adam and ReduceLROnPlateau on the validation loss."""
    optimizer = torch.optim.Adam(
        module.parameters(),
        lr=train.lr,
        weight_decay=train.weight_decay,
        **({"fused": True} if dev.type in ("cpu", "cuda") else {}),
    )
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, factor=train.lr_factor, patience=train.lr_patience
    )
    return optimizer, scheduler


def _resume(torch, output: Path, config: ModelConfig, module, optimizer, scheduler) -> _State:
    """Restore weights, Adam moments, scheduler and history from ``output``'s checkpoint."""
    from safetensors.torch import load_file

    ckpt, ckpt_state = output / CHECKPOINT, output / CHECKPOINT_STATE
    state = json.loads(ckpt_state.read_text())
    if state.get("vocab_size") != config.vocab_size:
        raise ModelError(f"{ckpt}: checkpoint vocabulary does not match the corpus")
    _load_state(torch, module, optimizer, load_file(str(ckpt)))
    scheduler.load_state_dict(state["scheduler"])
    for group in optimizer.param_groups:
        group["lr"] = state["lr"]
    log.info("resuming from %s at epoch %d", ckpt, state["epoch"])
    return _State(state["history"], state["epoch"], state["best"], state["stale"])


def _save_checkpoint(
    output: Path, config: ModelConfig, module, optimizer, scheduler, state: _State, epoch: int
) -> None:
    """Write the resumable checkpoint (safetensors + JSON) after ``epoch`` epochs."""
    from safetensors.torch import save_file

    save_file(_state_tensors(module, optimizer), str(output / CHECKPOINT))
    (output / CHECKPOINT_STATE).write_text(
        json.dumps(
            {
                "epoch": epoch,
                "vocab_size": config.vocab_size,
                "scheduler": scheduler.state_dict(),
                "lr": optimizer.param_groups[0]["lr"],
                "history": state.history,
                "best": state.best,
                "stale": state.stale,
            },
            default=float,
        )
    )


def _progress_bar(*, show: bool):
    """A rich progress bar on stderr, started (``None`` when not shown)."""
    if not show:
        return None
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("epoch {task.fields[epoch]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.4f}"),
        TimeRemainingColumn(),
        console=Console(stderr=True, highlight=False),
        transient=False,
    )
    bar.start()
    return bar


def _train_epoch(
    torch, module, optimizer, data: _Data, train: TrainConfig, rng, dev, bar, epoch: int
) -> float:
    """One pass over the training rows in a seeded order; the mean batch loss."""
    module.train()
    n_batches = math.ceil(len(data.train_rows) / train.batch_size)
    order = rng.permutation(data.train_rows)
    task = bar.add_task("train", total=n_batches, epoch=epoch + 1, loss=0.0) if bar else None
    total = 0.0
    config = data.config
    for b in range(n_batches):
        rows = order[b * train.batch_size : (b + 1) * train.batch_size]
        idx, off, target = _batch_tensors(
            torch, data.indptr, data.indices, rows, config.partition, rng, config.vocab_size, dev
        )
        loss = _loss(torch, module.forward_bags(idx, off), target, config.loss)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += float(loss.detach())
        if bar is not None and task is not None:
            bar.update(task, advance=1, loss=total / (b + 1))
    return total / n_batches


def _write_report(
    output: Path, train: TrainConfig, data: _Data, state: _State, seconds: float, stopped: str
) -> None:
    """Write ``train.json``: settings, history, time, split sizes, why training stopped."""
    (output / "train.json").write_text(
        json.dumps(
            {
                "train": train.to_dict(),
                "history": state.history,
                "seconds": seconds,
                "n_train": int(len(data.train_rows)),
                "n_val": int(len(data.val_rows)),
                "stopped": stopped,
            },
            indent=2,
        )
    )


def train_model(
    corpus: str | Path | Sequence[Sequence[str]],
    output: str | Path,
    *,
    config: ModelConfig | None = None,
    train: TrainConfig | None = None,
    vocab: Vocab | None = None,
    min_sets: int = 5,
    resume: bool = True,
    progress: bool = False,
    device: str | None = None,
) -> TrainResult:
    """Train the autoencoder on a corpus and write it to ``output``.

    Parameters
    ----------
    corpus
        A corpus GMT (as written by ``gsea-plus model corpus``) or a list of gene sets.
    output
        Directory for ``model.safetensors`` (float32), ``config.json``, ``vocab.txt``,
        ``train.json`` and the resumable ``checkpoint.*``.
    config
        Architecture; ``vocab_size`` is replaced by the corpus vocabulary's size.
    train
        Optimisation settings.
    vocab
        Vocabulary to use (default: genes in at least ``min_sets`` corpus sets).
    min_sets
        Minimum number of sets for a gene to enter the vocabulary.
    resume
        Continue from ``output/checkpoint.safetensors`` when present.
    progress
        Show a rich progress bar on stderr.
    device
        torch device (default: ``cuda`` when available, else ``cpu``).
    """
    torch = _torch()
    train = train or TrainConfig()
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    vocab, config, indptr, indices, usable = _encode_corpus(
        _read_sets(corpus), config, vocab, min_sets
    )
    rng = np.random.default_rng(train.seed)
    torch.manual_seed(train.seed)
    if train.threads:
        torch.set_num_threads(train.threads)
    val_rows, train_rows = _split_rows(usable, train, rng)
    data = _Data(vocab, config, indptr, indices, train_rows, val_rows)
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    module = _build_module(config).to(dev)
    optimizer, scheduler = _optimizer(torch, module, train, dev)
    state = _State()
    if resume and (output / CHECKPOINT).exists() and (output / CHECKPOINT_STATE).exists():
        state = _resume(torch, output, config, module, optimizer, scheduler)
        rng = np.random.default_rng([train.seed, state.start_epoch])
        torch.manual_seed(train.seed + state.start_epoch)

    t0 = time.perf_counter()
    stopped = ""
    bar = _progress_bar(show=progress)
    epoch = state.start_epoch
    try:
        for epoch in range(state.start_epoch, train.epochs):
            train_loss = _train_epoch(torch, module, optimizer, data, train, rng, dev, bar, epoch)
            val = _validation_loss(torch, module, indptr, indices, val_rows, config, train, dev)
            scheduler.step(val)
            lr = optimizer.param_groups[0]["lr"]
            state.history.append(
                {"epoch": epoch + 1, "train_loss": train_loss, "val_loss": val, "lr": lr}
            )
            log.info("epoch %d: train %.5f val %.5f lr %.2e", epoch + 1, train_loss, val, lr)
            if val < state.best - 1e-6:
                state.best, state.stale = val, 0
                _write_weights(module, config, vocab, output)
            else:
                state.stale += 1
            _save_checkpoint(output, config, module, optimizer, scheduler, state, epoch + 1)
            if train.early_stop and state.stale >= train.early_stop:
                stopped = f"no validation improvement for {state.stale} epochs"
                epoch += 1
                break
            if train.max_minutes and (time.perf_counter() - t0) / 60 > train.max_minutes:
                stopped = f"time limit of {train.max_minutes:g} min"
                epoch += 1
                break
        else:
            epoch = train.epochs
    finally:
        if bar is not None:
            bar.stop()
    if not (output / "model.safetensors").exists():
        _write_weights(module, config, vocab, output)
    seconds = time.perf_counter() - t0
    _write_report(output, train, data, state, seconds, stopped)
    return TrainResult(output, state.history, epoch, seconds, stopped)


def _validation_loss(torch, module, indptr, indices, rows, config, train, dev) -> float:
    module.eval()
    rng = np.random.default_rng(train.seed + 12345)  # the same hidden halves every epoch
    total, n = 0.0, 0
    with torch.no_grad():
        for b in range(0, len(rows), 512):
            batch = rows[b : b + 512]
            idx, off, target = _batch_tensors(
                torch, indptr, indices, batch, config.partition, rng, config.vocab_size, dev
            )
            total += float(_loss(torch, module.forward_bags(idx, off), target, config.loss)) * len(
                batch
            )
            n += len(batch)
    return total / max(n, 1)


def published_state(module) -> dict[str, Any]:
    """The module's weights under the published GSFM names (float32, CPU)."""
    out = {}
    for key, value in module.state_dict().items():
        value = value.detach().cpu()
        if key.endswith(".weight_t"):
            key, value = key[: -len("_t")], value.t()
        out[key] = value.contiguous().float()
    return out


def load_published_state(module, tensors: dict[str, Any]) -> None:
    """Load published-layout weights (``*.weight`` of the first layer transposed back)."""
    own = module.state_dict()
    state = {}
    for key, value in tensors.items():
        if key + "_t" in own and key not in own:
            key, value = key + "_t", value.t().contiguous()
        state[key] = value
    module.load_state_dict(state)


def _write_weights(module, config: ModelConfig, vocab: Vocab, output: Path) -> None:
    from safetensors.torch import save_file

    save_file(published_state(module), str(output / "model.safetensors"))
    config.save(output / "config.json")
    vocab.save(output / "vocab.txt")

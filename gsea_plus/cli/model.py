"""``gsea-plus model corpus|train|evaluate|info`` and ``gsea-plus predict``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from gsea_plus.cli import params
from gsea_plus.cli.common import err_console, help_if_bare, out_console, resolve_format, write_frame
from gsea_plus.cli.params import Format
from gsea_plus.output import printable, show

model_app = typer.Typer(
    help="The gene set foundation model: build a corpus, train, evaluate, inspect.",
    invoke_without_command=True,
)


@model_app.callback()
def _group(ctx: typer.Context) -> None:
    help_if_bare(ctx)


_MODEL_HELP = "Model directory or hub id (owner/name); default: the bundled model."


def _find_beside(dirs: list[Path], relative: str) -> Path | None:
    for d in dirs:
        for base in (d, *list(d.resolve().parents)[:3]):
            candidate = base / relative
            if candidate.exists():
                return candidate
    return None


@model_app.command("corpus")
def corpus(
    paths: list[Path] = typer.Argument(
        ..., help="GMT files or directories (searched recursively)."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="Corpus GMT to write (.gmt.gz)."),
    hgnc: Path | None = typer.Option(
        None, help="HGNC complete-set table; default: mapping/hgnc_complete_set*.tsv.gz beside DIR."
    ),
    orthologs: Path | None = typer.Option(
        None, help="Human/mouse ortholog table; default: mapping/human_mouse_orthologs*.tsv.gz."
    ),
    exclude: Path | None = typer.Option(
        None, help="Exclusion list; default: EXCLUDE.txt in DIR (the benchmark libraries)."
    ),
    no_exclude: bool = typer.Option(False, "--no-exclude", help="Keep every file."),
    min_size: int = typer.Option(10, help="Keep sets larger than this."),
    max_size: int = typer.Option(1000, help="Keep sets smaller than this."),
) -> None:
    """Build the training corpus: HGNC symbols, size filter, no duplicates, source tags."""
    from gsea_plus.library.gmt import write_gmt
    from gsea_plus.model.corpus import build_corpus, build_vocab

    dirs = [p if p.is_dir() else p.parent for p in paths]
    if hgnc is None:
        found = _find_beside(dirs, "mapping/hgnc_complete_set.subset.tsv.gz")
        hgnc = found
    if orthologs is None:
        orthologs = _find_beside(dirs, "mapping/human_mouse_orthologs_homologene_2014.tsv.gz")
    if exclude is None and not no_exclude:
        exclude = next((d / "EXCLUDE.txt" for d in dirs if (d / "EXCLUDE.txt").exists()), None)
    console = err_console()
    if hgnc is None:
        console.print("[yellow]warning:[/yellow] no HGNC table: symbols are only upper-cased")
    result = build_corpus(
        paths,
        hgnc=hgnc,
        orthologs=orthologs,
        exclude=None if no_exclude else exclude,
        min_size=min_size,
        max_size=max_size,
    )
    write_gmt(result.sets, output)
    stats: dict[str, Any] = result.stats.to_dict()
    vocab = build_vocab(result.sets)
    console.print(
        f"{stats['sets_kept']} sets from {stats['files']} files -> {output} "
        f"({stats['size_filtered']} outside {min_size}<size<{max_size}, "
        f"{stats['duplicates']} duplicates, {len(stats['excluded_files'])} files and "
        f"{stats['excluded_sets']} sets excluded; {len(vocab) - 2} genes in >=5 sets)"
    )


FAMILIES = ("autoencoder", "ease", "blend")


@model_app.command("train")
def train(
    corpus_file: Path = typer.Argument(..., help="Corpus GMT from `gsea-plus model corpus`."),
    output: Path = typer.Option(..., "--output", "-o", help="Model directory to write."),
    family: str = typer.Option(
        "autoencoder",
        "--family",
        metavar=params.one_of(FAMILIES),
        help="autoencoder: the denoising autoencoder (torch, the `train` extra). ease: a "
        "closed-form linear autoencoder (numpy, minutes). blend: the bundled layout, "
        "set-kNN + --autoencoder + EASE + cytogenetic band parts fitted on the corpus.",
    ),
    epochs: int = typer.Option(50, help="Maximum epochs (autoencoder)."),
    batch_size: int = typer.Option(128, help="Sets per step (autoencoder)."),
    lr: float = typer.Option(1e-3, help="Adam learning rate (autoencoder)."),
    loss: str = typer.Option(
        "bce", help="bce (published) or softmax (multinomial, Mult-DAE) (autoencoder)."
    ),
    partition: float = typer.Option(
        0.0, help="Fraction of each set hidden from the input (autoencoder)."
    ),
    d_model: int = typer.Option(256, help="Width of the set encoding (autoencoder)."),
    depth: int = typer.Option(2, help="Linear layers in encoder and decoder (autoencoder)."),
    dropout: float = typer.Option(0.2, help="Dropout after hidden layers (autoencoder)."),
    val_fraction: float = typer.Option(0.05, help="Held-out validation fraction (autoencoder)."),
    early_stop: int = typer.Option(
        3, help="Stop after this many epochs without improvement (autoencoder)."
    ),
    max_minutes: float = typer.Option(0.0, help="Wall-time limit (0: none) (autoencoder)."),
    seed: int = typer.Option(0, help="Random seed (autoencoder)."),
    threads: int = typer.Option(0, help="torch CPU threads (0: default) (autoencoder)."),
    device: str | None = typer.Option(
        None, help="torch device (default: cuda if present) (autoencoder)."
    ),
    resume: bool = typer.Option(
        True, "--resume/--no-resume", help="Continue a checkpoint (autoencoder)."
    ),
    lam: float = typer.Option(3000.0, help="L2 penalty on the gene x gene weights (ease)."),
    size_power: float = typer.Option(
        0.5, help="Weight each corpus set by size^-POWER (ease; 0: every set counts once)."
    ),
    source_power: float = typer.Option(
        0.0, help="Weight each source library's sets by count^-POWER (ease)."
    ),
    dropout_ratio: float = typer.Option(
        0.0, help="Extra per-gene penalty p/(1-p) for dropout rate p (ease; 0: plain EASE)."
    ),
    keep: int | None = typer.Option(
        None,
        show_default=False,
        help="Weights kept per gene when pruning (ease: 512; blend: 128, as bundled).",
    ),
    vocab: Path | None = typer.Option(
        None, help="vocab.txt to fit on (ease; default: genes in >= 5 corpus sets)."
    ),
    dtype: str = typer.Option(
        "int8", help="Storage of the fitted weights: int8, float16 or float32 (ease, blend)."
    ),
    autoencoder: Path | None = typer.Option(
        None,
        help="Autoencoder directory whose vocabulary and weights the blend uses (blend; "
        "e.g. the output of --family autoencoder).",
    ),
    gene_info: Path | None = typer.Option(
        None,
        help="NCBI gene_info table for the band part (blend; default: "
        "mapping/Homo_sapiens.gene_info*.gz beside the training data).",
    ),
    hgnc: Path | None = typer.Option(
        None, help="HGNC table to map gene_info symbols (blend; default: found beside it)."
    ),
) -> None:
    """Train or fit a model on a corpus: the autoencoder, EASE, or the bundled blend."""
    from gsea_plus.errors import InputError

    if family not in FAMILIES:
        raise InputError(f"--family must be one of {', '.join(FAMILIES)}, not {family!r}")
    if dtype not in ("int8", "float16", "float32"):
        raise InputError(f"--dtype must be int8, float16 or float32, not {dtype!r}")
    console = err_console()

    def say(message: str) -> None:
        console.print(f"[dim]{show(message)}[/dim]")

    if family == "autoencoder":
        _train_autoencoder(
            corpus_file,
            output,
            dict(d_model=d_model, depth=depth, dropout=dropout, partition=partition, loss=loss),
            dict(
                epochs=epochs,
                batch_size=batch_size,
                lr=lr,
                val_fraction=val_fraction,
                early_stop=early_stop,
                max_minutes=max_minutes,
                seed=seed,
                threads=threads,
            ),
            resume=resume,
            device=device,
        )
        return
    from gsea_plus.model.ease import EaseSettings

    settings = EaseSettings(
        lam=lam,
        dropout_ratio=dropout_ratio,
        size_power=size_power,
        source_power=source_power,
        k=keep if keep is not None else (512 if family == "ease" else 128),
    )
    if family == "ease":
        from gsea_plus.model.ease import fit_ease_model

        fit_ease_model(
            corpus_file, output, settings=settings, vocab=vocab, dtype=dtype, progress=say
        )
    else:
        from gsea_plus.model.blend import fit_blend_model
        from gsea_plus.model.evaluate import find_training_dir

        beside = [corpus_file.parent]
        training = find_training_dir()
        if training is not None:
            beside.append(training)
        if gene_info is None:
            gene_info = _find_beside(beside, "mapping/Homo_sapiens.gene_info.2021-02.gz")
        if hgnc is None:
            hgnc = _find_beside(beside, "mapping/hgnc_complete_set.subset.tsv.gz")
        if gene_info is None:
            say("no gene_info table found: the blend has no band part (pass --gene-info)")
        fit_blend_model(
            corpus_file,
            output,
            autoencoder=autoencoder,
            gene_info=gene_info,
            hgnc=hgnc,
            ease=settings,
            dtype=dtype,
            progress=say,
        )
    console.print(f"{family} model -> {show(output)}")


def _train_autoencoder(
    corpus_file: Path,
    output: Path,
    model: dict,
    settings: dict,
    *,
    resume: bool,
    device: str | None,
) -> None:
    from gsea_plus.model.config import ModelConfig, TrainConfig
    from gsea_plus.model.train import train_model

    result = train_model(
        corpus_file,
        output,
        config=ModelConfig(vocab_size=3, **model),
        train=TrainConfig(**settings),
        resume=resume,
        progress=True,
        device=device,
    )
    last = result.history[-1] if result.history else {}
    err_console().print(
        f"trained {result.epochs} epochs in {result.seconds / 60:.1f} min "
        f"(val loss {last.get('val_loss', float('nan')):.4f}) -> {output}"
        + (f"; stopped: {result.stopped}" if result.stopped else "")
    )


@model_app.command("evaluate")
def evaluate(
    library: list[str] = typer.Option(
        ..., "--library", "-l", help="Library GMT path or name (repeatable)."
    ),
    model: str | None = typer.Option(None, "--model", "-m", help=_MODEL_HELP),
    corpus_file: Path | None = typer.Option(
        None,
        "--corpus",
        help="Training corpus GMT for the co-occurrence baselines (default: $GSEA_PLUS_CORPUS, "
        "or the corpus built once from the training data beside the project, cached).",
    ),
    no_baselines: bool = typer.Option(
        False, "--no-baselines", help="Skip the co-occurrence baselines."
    ),
    time_split: list[str] = typer.Option(
        [], "--time-split", help="OLD=NEW library pair for the time-split protocol (repeatable)."
    ),
    hgnc: Path | None = typer.Option(None, help="HGNC table to normalize library symbols."),
    repeats: int = typer.Option(5, help="Random 50/50 splits per term."),
    seed: int = typer.Option(0, help="Seed of the splits and term sample."),
    max_terms: int | None = typer.Option(None, help="Sample this many terms per library."),
    fmt: params.OutputFormat = Format.auto,
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the table here."),
) -> None:
    """Median AUROC by the GSFM paper's protocol, with co-occurrence and random baselines."""
    from gsea_plus.errors import InputError
    from gsea_plus.model import load_model
    from gsea_plus.model.evaluate import load_sets, normalize_sets, run_evaluation

    mapper = None
    if hgnc is not None:
        from gsea_plus.genes import SymbolMapper

        mapper = SymbolMapper.from_hgnc(hgnc)
    m = load_model(model)
    libraries = {}
    for spec in library:
        name, sets = load_sets(spec)
        libraries[name] = normalize_sets(sets, mapper)
    splits = {}
    for pair in time_split:
        if "=" not in pair:
            raise InputError(f"--time-split {pair!r}: expected OLD=NEW")
        old_spec, new_spec = pair.split("=", 1)
        old_name, old = load_sets(old_spec)
        new_name, new = load_sets(new_spec)
        splits[f"{old_name}->{new_name}"] = (
            normalize_sets(old, mapper),
            normalize_sets(new, mapper),
        )
    console = err_console()
    corpus_sets = None
    if corpus_file is not None and not no_baselines:
        from gsea_plus.library.gmt import read_gmt

        corpus_sets = [s.genes for s in read_gmt(corpus_file)]
    elif not no_baselines:
        from gsea_plus.model.evaluate import default_corpus

        found = default_corpus(progress=lambda msg: console.print(f"[dim]{show(msg)}[/dim]"))
        corpus_sets = found.sets
        console.print(f"[dim]{show(found.note)}[/dim]")
    table = run_evaluation(
        m,
        libraries,
        corpus=corpus_sets,
        time_splits=splits,
        repeats=repeats,
        seed=seed,
        max_terms=max_terms,
        progress=lambda msg: console.print(f"[dim]{msg}[/dim]"),
    )
    resolved = resolve_format(fmt, output)
    if resolved is Format.table:
        formats = {col: ".3f" for col in table.columns}
        _print_table(table, f"median AUROC ({show(str(m.source))})", formats)
        return
    write_frame(table, resolved, output)


@model_app.command("download")
def download(
    repo_id: str = typer.Argument(..., metavar="OWNER/NAME", help="A model hub id."),
    force: bool = typer.Option(
        False, "--force", metavar="", help="Download again even when the cached files pass."
    ),
) -> None:
    """Download a published checkpoint (safetensors only) into the cache, or refresh it."""
    from gsea_plus.model.hub import download as fetch

    path = fetch(repo_id, force=force)
    err_console().print(f"{show(repo_id)}: {show(path)}")


@model_app.command("info")
def info(model: str | None = typer.Option(None, "--model", "-m", help=_MODEL_HELP)) -> None:
    """Show a model's architecture, vocabulary and files."""
    from gsea_plus.model import load_model
    from gsea_plus.model.bundle import file_sha256

    m = load_model(model)
    d = m.describe()
    console = out_console()
    console.print(f"model: {show(str(d['source']))}")
    console.print(f"family: {d['family']}")
    for part in d["parts"]:
        console.print(
            "  part "
            + ", ".join(f"{k} {show(str(v))}" for k, v in part.items() if v not in (None, ""))
        )
    if d["architecture"]:
        console.print(f"architecture: {d['architecture']}")
    if d["embedding"]:
        console.print(f"set embedding: {d['embedding']} dimensions")
    console.print(f"vocabulary: {d['genes']} genes")
    for f in d["files"]:
        path = Path(m.source) / f["name"]
        console.print(f"  {show(f['name']):<24}{f['bytes']:>10}  sha256 {file_sha256(path)[:16]}")


def predict_cmd(
    genes: Annotated[
        str,
        typer.Argument(
            metavar="GENES",
            help="Gene list file (symbols, Ensembl or Entrez IDs), or - for standard input.",
        ),
    ],
    top: params.TerminalRows = 50,
    model: params.Model = None,
    include_input: Annotated[
        bool,
        typer.Option(
            "--include-input",
            metavar="",
            help="Rank the input genes too (flagged in 'In input'); by default they are left "
            "out: the model was given them.",
        ),
    ] = False,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            metavar="",
            help="Add each model part's share of the score (the columns sum to Score) and "
            "'Top set': the most similar corpus set that holds the gene.",
        ),
    ] = False,
    similar_sets: Annotated[
        int | None,
        typer.Option(
            "--similar-sets",
            metavar="N",
            min=1,
            show_default=False,
            help="Show the N corpus sets most similar to the list (what the set-kNN part "
            "votes with) instead of the predicted genes.",
        ),
    ] = None,
    fmt: params.OutputFormat = Format.auto,
    output: params.Output = None,
    hgnc: params.Hgnc = None,
    species: params.Species = "human",
    offline: params.Offline = False,
) -> None:
    """Predict the genes that belong with a gene list (the gene set foundation model).

    Blended models (the bundled one) sum standardized part scores: set-kNN (the corpus sets
    most like the list vote for their genes), the autoencoder, EASE and the cytogenetic
    band; --explain shows each part's share.
    """
    import warnings

    from gsea_plus.engine import convert_missing
    from gsea_plus.genes import read_gene_list
    from gsea_plus.idmap import load_idmap
    from gsea_plus.model import load_model
    from gsea_plus.model import predict as run_predict

    gene_list = read_gene_list(genes)
    loaded = load_model(model, offline=params.offline(offline))
    symbols, conversion = convert_missing(
        gene_list.genes,
        frozenset(loaded.vocab.tolist()),
        load_idmap(hgnc),
        species,
        gene_list.original,
    )
    if conversion is not None and (conversion.converted or conversion.ambiguous):
        err_console().print(f"[dim]identifiers: {show(conversion.summary())}[/dim]")
    if similar_sets is not None:
        _show_similar_sets(loaded.similar_sets(symbols, top=similar_sets), fmt, output)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reported below, once
        df = run_predict(
            symbols, top=top, model=loaded, exclude_input=not include_input, explain=explain
        )
    unknown = df.attrs.get("unknown", [])
    console = err_console()
    if unknown:
        shown = ", ".join(unknown[:20]) + (" ..." if len(unknown) > 20 else "")
        console.print(
            f"[yellow]warning:[/yellow] {len(unknown)} of {len(gene_list.genes)} genes are "
            f"not in the model vocabulary (ignored): {shown}"
        )
    resolved = resolve_format(fmt, output)
    if resolved is Format.table:
        _print_table(df, f"top {len(df)} predicted genes", {"Score": ".3f", "Probability": ".3g"})
        return
    write_frame(df, resolved, output)


def _show_similar_sets(df, fmt: Format, output: Path | None) -> None:
    resolved = resolve_format(fmt, output)
    if resolved is Format.table:
        _print_table(df, f"the {len(df)} most similar corpus sets", {"Similarity": ".3f"})
        return
    write_frame(df, resolved, output)


def _print_table(df, title: str, formats: dict[str, str]) -> None:
    """A frame as a rich table: numbers right-aligned (floats ``.2f`` unless named)."""
    import numpy as np
    from rich.markup import escape
    from rich.table import Table

    view = Table(title=title)
    for col in df.columns:
        numeric = df[col].dtype.kind in "fiu"
        view.add_column(escape(str(col)), justify="right" if numeric else "left", overflow="fold")
    for row in df.itertuples(index=False):
        cells = []
        for col, value in zip(df.columns, row, strict=True):
            if isinstance(value, (bool, np.bool_)):
                cells.append("yes" if value else "")
            elif isinstance(value, (float, np.floating)):
                cells.append(format(value, formats.get(col, ".2f")))
            else:
                cells.append(escape(printable(str(value))))
        view.add_row(*cells)
    out_console().print(view)

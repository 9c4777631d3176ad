"""``gsea-plus model corpus|train|evaluate|info`` and ``gsea-plus predict``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gsea_plus.cli import params
from gsea_plus.cli.common import err_console, help_if_bare, out_console, resolve_format, write_frame
from gsea_plus.cli.params import Format
from gsea_plus.output import show

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
    stats = result.stats.to_dict()
    vocab = build_vocab(result.sets)
    console.print(
        f"{stats['sets_kept']} sets from {stats['files']} files -> {output} "
        f"({stats['size_filtered']} outside {min_size}<size<{max_size}, "
        f"{stats['duplicates']} duplicates, {len(stats['excluded_files'])} files and "
        f"{stats['excluded_sets']} sets excluded; {len(vocab) - 2} genes in >=5 sets)"
    )


@model_app.command("train")
def train(
    corpus_file: Path = typer.Argument(..., help="Corpus GMT from `gsea-plus model corpus`."),
    output: Path = typer.Option(..., "--output", "-o", help="Model directory to write."),
    epochs: int = typer.Option(50, help="Maximum epochs."),
    batch_size: int = typer.Option(128, help="Sets per step."),
    lr: float = typer.Option(1e-3, help="Adam learning rate."),
    loss: str = typer.Option("bce", help="bce (published) or softmax (multinomial, Mult-DAE)."),
    partition: float = typer.Option(0.0, help="Fraction of each set hidden from the input."),
    d_model: int = typer.Option(256, help="Width of the set encoding."),
    depth: int = typer.Option(2, help="Linear layers in encoder and decoder."),
    dropout: float = typer.Option(0.2, help="Dropout after hidden layers."),
    val_fraction: float = typer.Option(0.05, help="Held-out validation fraction."),
    early_stop: int = typer.Option(3, help="Stop after this many epochs without improvement."),
    max_minutes: float = typer.Option(0.0, help="Wall-time limit (0: none)."),
    seed: int = typer.Option(0, help="Random seed."),
    threads: int = typer.Option(0, help="torch CPU threads (0: default)."),
    device: str | None = typer.Option(None, help="torch device (default: cuda if present)."),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="Continue a checkpoint."),
) -> None:
    """Train the autoencoder (needs the `train` extra: torch)."""
    from gsea_plus.model.config import ModelConfig, TrainConfig
    from gsea_plus.model.train import train_model

    config = ModelConfig(
        vocab_size=3, d_model=d_model, depth=depth, dropout=dropout, partition=partition, loss=loss
    )
    settings = TrainConfig(
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        val_fraction=val_fraction,
        early_stop=early_stop,
        max_minutes=max_minutes,
        seed=seed,
        threads=threads,
    )
    result = train_model(
        corpus_file,
        output,
        config=config,
        train=settings,
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
        None, "--corpus", help="Training corpus GMT: adds the co-occurrence baselines."
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
    corpus_sets = None
    if corpus_file is not None:
        from gsea_plus.library.gmt import read_gmt

        corpus_sets = [s.genes for s in read_gmt(corpus_file)]
    console = err_console()
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
        from rich.table import Table

        view = Table(title=f"median AUROC ({m.source})")
        for col in table.columns:
            view.add_column(col, justify="right" if table[col].dtype.kind in "fi" else "left")
        for row in table.itertuples(index=False):
            view.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
        out_console().print(view)
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
    c = m.network.config
    console = out_console()
    console.print(f"model: {m.source}")
    console.print(f"scorer: {m.name}")
    console.print(
        f"architecture: encoder {c.encoder_dims}, decoder {c.decoder_dims}, "
        f"dropout {c.dropout}, loss {c.loss}, partition {c.partition}"
    )
    console.print(f"vocabulary: {len(m.vocab)} genes")
    for p in sorted(Path(m.source).iterdir()):
        if p.is_file() and not p.name.startswith("."):
            console.print(f"  {p.name:<24}{p.stat().st_size:>10}  sha256 {file_sha256(p)[:16]}")


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
    fmt: params.OutputFormat = Format.auto,
    output: params.Output = None,
    hgnc: params.Hgnc = None,
    species: params.Species = "human",
    offline: params.Offline = False,
) -> None:
    """Predict the genes that belong with a gene list (the gene set foundation model)."""
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reported below, once
        df = run_predict(symbols, top=top, model=loaded, exclude_input=not include_input)
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
        from rich.table import Table

        view = Table(title=f"top {len(df)} predicted genes")
        for col in ("Rank", "Gene", "Score", "Probability", "In input"):
            view.add_column(
                col, justify="right" if col in ("Rank", "Score", "Probability") else "left"
            )
        for row in df.itertuples(index=False):
            view.add_row(
                str(row.Rank),
                row.Gene,
                f"{row.Score:.3f}",
                f"{row.Probability:.3g}",
                "yes" if row[4] else "",
            )
        out_console().print(view)
        return
    write_frame(df, resolved, output)

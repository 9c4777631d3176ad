"""``gsea-plus libraries list | download | info | path``: the library manager."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gsea_plus.cli import params
from gsea_plus.cli.common import err_console, help_if_bare, out_console, resolve_format, write_frame
from gsea_plus.cli.params import Format

libraries_app = typer.Typer(
    help="List, download and inspect gene set libraries (cached per user; "
    "GSEA_PLUS_CACHE overrides the location, GSEA_PLUS_ENRICHR_URL the server).",
    invoke_without_command=True,
)


@libraries_app.callback()
def _group(ctx: typer.Context) -> None:
    help_if_bare(ctx)


@libraries_app.command("list")
def list_cmd(
    fmt: params.OutputFormat = Format.auto,
) -> None:
    """List the catalog's libraries, their aliases, and whether each is bundled or cached."""
    from gsea_plus.library.catalog import catalog
    from gsea_plus.library.download import cached

    rows: list[dict[str, Any]] = []
    for e in catalog():
        rows.append(
            {
                "name": e.name,
                "aliases": ",".join(e.aliases),
                "species": e.species,
                "category": e.category,
                "bundled": bool(e.bundled),
                "cached": cached(e.name).exists(),
                "license": e.license,
            }
        )
    chosen = resolve_format(fmt, None)
    if chosen is Format.table:
        from rich.markup import escape
        from rich.table import Table

        console = out_console()
        # The name is the one thing to copy: it is never cut. The other columns go first
        # when the terminal is narrow.
        wide = console.width >= 100
        table = Table(
            header_style="bold",
            caption="where: bundled = in the package, works offline; cached = downloaded",
        )
        table.add_column("name", no_wrap=True, overflow="ignore")
        table.add_column("aliases", overflow="fold")
        if wide:
            table.add_column("species")
            table.add_column("category")
        table.add_column("where", no_wrap=True)
        for r in rows:
            where = "bundled" if r["bundled"] else ("cached" if r["cached"] else "")
            cells = [escape(r["name"]), escape(r["aliases"].replace(",", ", "))]
            if wide:
                cells += [escape(r["species"]), escape(r["category"])]
            table.add_row(*cells, where)
        console.print(table)
    else:
        import pandas as pd

        write_frame(pd.DataFrame(rows), chosen, None)


@libraries_app.command("download")
def download_cmd(
    names: Annotated[
        list[str], typer.Argument(metavar="NAME", help="Aliases or Enrichr library names.")
    ],
    force: Annotated[
        bool, typer.Option("--force", metavar="", help="Download again even when cached.")
    ] = False,
) -> None:
    """Download libraries from Enrichr into the cache (verified, atomic)."""
    from gsea_plus.errors import InputError
    from gsea_plus.library import download_library
    from gsea_plus.options import OFFLINE_ENV, offline_default

    if offline_default(None):
        raise InputError(f"{OFFLINE_ENV} is set: offline mode forbids downloading")
    for spec in names:
        entry = download_library(spec, force=force)
        name = entry.name
        meta = entry.meta()
        err_console().print(
            f"{name}: {meta.get('n_terms', '?')} terms, {meta.get('bytes', '?')} bytes, "
            f"sha256 {str(meta.get('sha256', ''))[:16]}..."
        )


@libraries_app.command("info")
def info_cmd(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Alias, Enrichr name or GMT path.")],
    offline: Annotated[
        bool,
        typer.Option(
            "--offline/--online",
            help="Only read the cache (default), or download the library when missing.",
        ),
    ] = True,
) -> None:
    """Show a library's terms, genes, size distribution, source and checksum."""
    import numpy as np

    from gsea_plus.library import find_entry, load_library

    lib = load_library(name, offline=True if offline else None)
    sizes = lib.term_sizes
    entry = find_entry(name)
    lines = [
        f"name: {lib.name}",
        f"version: {lib.version}",
        f"terms: {len(lib)}",
        f"genes: {len(lib.genes)}",
        f"term size: min {sizes.min()}, median {int(np.median(sizes))}, max {sizes.max()}",
    ]
    for key in ("source", "sha256", "downloaded_at"):
        if key in lib.meta:
            lines.append(f"{key}: {lib.meta[key]}")
    if entry is not None:
        lines += [
            f"aliases: {', '.join(entry.aliases) or '-'}",
            f"species: {entry.species}",
            f"category: {entry.category}",
            f"license: {entry.license}",
        ]
    typer.echo("\n".join(lines))


@libraries_app.command("path")
def path_cmd(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Alias or Enrichr name.")],
) -> None:
    """Print the path of a cached library's GMT text (error if not cached)."""
    from gsea_plus.errors import LibraryError
    from gsea_plus.library import resolve_name
    from gsea_plus.library.download import cached

    entry = cached(resolve_name(name))
    if not entry.exists():
        raise LibraryError(
            f"library {entry.name} is not cached (run: gsea-plus libraries download {name})"
        )
    typer.echo(str(entry.text))

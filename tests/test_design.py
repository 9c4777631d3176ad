"""Tests that guard the design: the import graph, the options object, the command line.

The package's dependencies point one way (cli -> api -> {batch, evidence, distributed} ->
engine -> {library, genes, stats}; everything may import options); the classical engine
knows nothing of the model; torch is imported only by training code and dask only by the
Dask engine. The graph is read from the source (every import statement, at any depth),
so a lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
from pathlib import Path

import pytest

import gsea_plus
from gsea_plus.options import BatchOptions, EnrichOptions

PACKAGE = Path(gsea_plus.__file__).resolve().parent
ROOT = PACKAGE.parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str) -> str | None:
    """The package module an import of ``name`` loads (longest known prefix)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str) -> dict[str, set[str]]:
    """The modules a module imports: ``gsea_plus.x`` keys, and ``"third:NAME"`` for other
    top-level packages (``require("NAME", ...)``, the optional imports, count too).
    """
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    out: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module if is_package else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                prefix = f"{base}.{node.module}" if node.module else base
            else:
                prefix = node.module or ""
            # `from pkg import submodule` loads the submodule
            names = [
                f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in MODULES else prefix
                for a in node.names
            ]
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", "")) == "require"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names = [node.args[0].value]  # gsea_plus.errors.require: an optional import
        for name in names:
            if name.startswith("safetensors.torch"):
                name = "torch"
            if name.split(".")[0] == "gsea_plus":
                target = _resolve(name)
                if target is not None and target != module:
                    out.setdefault(target, set())
            else:
                out.setdefault("third:" + name.split(".")[0], set())
    return out


GRAPH = {m: {t for t in _imports(m) if not t.startswith("third:")} for m in MODULES}
THIRD = {m: {t[6:] for t in _imports(m) if t.startswith("third:")} for m in MODULES}


def _in(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in GRAPH:
        if v not in index:
            visit(v)
    return out


def test_the_graph_sees_the_package():
    # a guard against a test that passes because it reads nothing
    assert {"gsea_plus.engine", "gsea_plus.api", "gsea_plus.cli.app"} <= set(MODULES)
    assert "gsea_plus.engine" in GRAPH["gsea_plus.api"]
    assert "gsea_plus.evidence" in GRAPH["gsea_plus.api"]
    assert "torch" in THIRD["gsea_plus.model.train"]


def test_no_import_circle_outside_the_cli():
    bad = [c for c in _cycles() if not all(_in(m, "gsea_plus.cli") for m in c)]
    assert not bad, f"import circles: {bad}"


def test_the_classical_engine_knows_nothing_of_the_model():
    above = (
        "gsea_plus.evidence",
        "gsea_plus.model",
        "gsea_plus.batch",
        "gsea_plus.api",
        "gsea_plus.distributed",
        "gsea_plus.cli",
    )
    for module in ("gsea_plus.engine", "gsea_plus.stats", "gsea_plus.genes"):
        reached = {t for t in GRAPH[module] if _in(t, *above)}
        assert not reached, f"{module} imports {reached}"
    for module in MODULES:
        if _in(module, "gsea_plus.library"):
            assert not {t for t in GRAPH[module] if _in(t, *above, "gsea_plus.engine")}, module


def test_dependencies_point_down():
    for module, targets in GRAPH.items():
        if not _in(module, "gsea_plus.cli"):
            assert not {t for t in targets if _in(t, "gsea_plus.cli")}, f"{module} imports cli"
        if _in(
            module,
            "gsea_plus.batch",
            "gsea_plus.evidence",
            "gsea_plus.distributed",
            "gsea_plus.engine",
            "gsea_plus.library",
            "gsea_plus.model",
        ):
            assert "gsea_plus.api" not in targets, f"{module} imports the api"
        # only the API module knows both kinds of evidence (and evidence itself)
        if not _in(module, "gsea_plus.api", "gsea_plus.evidence", "gsea_plus"):
            assert not {t for t in targets if _in(t, "gsea_plus.evidence")}, (
                f"{module} imports the model evidence directly"
            )
        if _in(module, "gsea_plus.batch"):
            assert "gsea_plus.distributed" not in targets, "batch must not import Dask"


def test_the_compute_seam_imports_no_implementation():
    assert GRAPH["gsea_plus.batch.compute"] == set()
    assert GRAPH["gsea_plus.distributed"] & {"gsea_plus.batch.compute"}


def test_torch_only_in_training_and_dask_only_in_the_dask_engine():
    for module, third in THIRD.items():
        if "torch" in third:
            assert module == "gsea_plus.model.train", module
        if {"dask", "distributed"} & third:
            assert module == "gsea_plus.distributed", module


def test_options_import_nothing_heavy():
    assert not THIRD["gsea_plus.options"] - {
        "__future__",
        "dataclasses",
        "functools",
        "inspect",
        "os",
        "re",
        "collections",
        "typing",
    }
    assert GRAPH["gsea_plus.options"] <= {"gsea_plus.errors"}


def test_cli_is_composed_from_the_app_module():
    # command modules define commands; only cli/app.py registers them
    for module in MODULES:
        if _in(module, "gsea_plus.cli") and module not in ("gsea_plus.cli", "gsea_plus.cli.app"):
            assert "gsea_plus.cli.app" not in GRAPH[module], f"{module} imports the app"
    from gsea_plus.cli.app import app

    names = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    assert names == {"enrich", "batch", "prerank", "predict", "gene", "libraries", "model"}


# ------------------------------------------------------------------- the options object


def _option_fields(cls) -> dict[str, object]:
    return {f.name: f.default for f in dataclasses.fields(cls) if f.init}


@pytest.mark.parametrize(
    ("func", "classes"),
    [
        ("enrich", (EnrichOptions,)),
        ("enrich_table", (EnrichOptions,)),
        ("enrich_many", (EnrichOptions, BatchOptions)),
        ("iter_enrich_many", (EnrichOptions, BatchOptions)),
    ],
)
def test_public_signatures_show_every_option(func, classes):
    import gsea_plus.api as api

    params = inspect.signature(getattr(api, func)).parameters
    assert not [p for p in params.values() if p.kind is p.VAR_KEYWORD], "no **options"
    for cls in classes:
        for name, default in _option_fields(cls).items():
            assert name in params, f"{func} lacks {name}"
            assert params[name].kind is inspect.Parameter.KEYWORD_ONLY
            assert params[name].default == default, name
        doc = getattr(api, func).__doc__
        assert all(name in doc for name in _option_fields(cls)), f"{func} documents its options"


def test_options_object_and_keywords_agree(tiny_gmt):
    opts = EnrichOptions(correction="bonferroni", min_size=2)
    by_object = gsea_plus.enrich(["G1", "G2", "G3"], str(tiny_gmt), options=opts)
    by_keywords = gsea_plus.enrich(
        ["G1", "G2", "G3"], str(tiny_gmt), correction="bonferroni", min_size=2
    )
    assert by_object.equals(by_keywords)
    # keywords override the object's fields
    mixed = gsea_plus.enrich(["G1", "G2", "G3"], str(tiny_gmt), options=opts, correction="fdr_bh")
    assert mixed.equals(gsea_plus.enrich(["G1", "G2", "G3"], str(tiny_gmt), min_size=2))
    with pytest.raises(TypeError, match="unexpected keyword"):
        gsea_plus.enrich(["G1"], str(tiny_gmt), no_such_option=1)
    with pytest.raises(TypeError, match="EnrichOptions"):
        gsea_plus.enrich(["G1"], str(tiny_gmt), options={"correction": "bonferroni"})


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"correction": "bogus"}, "unknown correction"),
        ({"min_size": -3}, "--min-size"),
        ({"min_size": 5, "max_size": 2}, "--min-size <= --max-size"),
        ({"min_overlap": -1}, "--min-overlap"),
        ({"augment": -1}, "--augment"),
        ({"rank": "cosine"}, "unknown rank"),
        ({"test": "magic", "augment": 5}, "unknown model test"),
        ({"compare": True}, "--augment N or --rank embedding"),
        ({"background": -5}, "positive"),
        ({"background": "-5"}, "positive"),
        ({"background": "1e30"}, "larger than any genome"),
        ({"background": "2.5"}, "whole number"),
        ({"background": True}, "number of genes"),
    ],
)
def test_every_check_raises_the_same_input_error(kwargs, needle):
    from gsea_plus.errors import InputError

    with pytest.raises(InputError, match=needle):
        EnrichOptions(**kwargs)
    # and the API raises the same error, before any work
    with pytest.raises(InputError, match=needle):
        gsea_plus.enrich(["G1"], {"T": ["G1", "G2"]}, **kwargs)
    with pytest.raises(InputError, match=needle):
        gsea_plus.enrich_many({"a": ["G1"]}, {"T": ["G1", "G2"]}, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"top": 0}, "--top"),
        ({"chunk_size": 0}, "chunk size"),
        ({"workers": 0}, "--workers"),
        ({"engine": "spark"}, "unknown engine"),
        ({"scheduler": "tcp://127.0.0.1:1"}, "--scheduler needs --engine dask"),
        ({"input_format": "xml"}, "unknown input format"),
    ],
)
def test_batch_checks(kwargs, needle):
    from gsea_plus.errors import InputError

    with pytest.raises(InputError, match=needle):
        gsea_plus.enrich_many({"a": ["G1"]}, {"T": ["G1", "G2"]}, **kwargs)


def test_environment_fallbacks_live_in_the_options(monkeypatch):
    from gsea_plus.errors import InputError

    monkeypatch.setenv("GSEA_PLUS_OFFLINE", "1")
    assert EnrichOptions().offline is True
    assert EnrichOptions(offline=False).offline is False
    monkeypatch.setenv("GSEA_PLUS_OFFLINE", "0")
    assert EnrichOptions().offline is False
    monkeypatch.setenv("GSEA_PLUS_OFFLINE", "maybe")
    with pytest.raises(InputError, match="GSEA_PLUS_OFFLINE"):
        EnrichOptions()
    monkeypatch.delenv("GSEA_PLUS_OFFLINE")
    monkeypatch.setenv("GSEA_PLUS_HGNC", "/some/hgnc.tsv")
    assert EnrichOptions().hgnc == "/some/hgnc.tsv"


def test_min_overlap_default_is_worked_out_once():
    assert EnrichOptions().overlap_floor == 1
    assert EnrichOptions(augment=5).overlap_floor == 0
    assert EnrichOptions(rank="embedding").overlap_floor == 0
    assert EnrichOptions(augment=5, min_overlap=2).overlap_floor == 2
    assert EnrichOptions().model_options is None
    assert EnrichOptions(augment=5).model_options.method == "combined+augment5"


def test_cli_options_are_the_options_fields():
    # every CLI command that takes enrichment options names its parameters after the
    # fields, so params.enrich_options(locals()) can build the object
    from gsea_plus.cli import batch, enrich

    for func, classes in (
        (enrich.enrich_cmd, (EnrichOptions,)),
        (batch.batch_cmd, (EnrichOptions, BatchOptions)),
    ):
        params = inspect.signature(func).parameters
        for cls in classes:
            for name, default in _option_fields(cls).items():
                assert name in params, f"{func.__name__} lacks --{name}"
                if name != "offline":  # absent flag = "not given" (the environment decides)
                    assert params[name].default == default, name

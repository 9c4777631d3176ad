"""Start-up cost and the public API: what the command line imports, what the package exports."""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys

import pytest
from conftest import TINY_SETS, gmt_text, subprocess_env

HEAVY = {"torch", "dask", "distributed", "pandas", "scipy", "statsmodels", "matplotlib"}

_PROBE = r"""
import json, sys
sys.argv = ["gsea-plus"] + json.loads(sys.argv[1])
from gsea_plus.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = set(%r)
loaded = sorted({m.split(".")[0] for m in sys.modules} & heavy)
sys.stderr.write("\nMODULES=" + json.dumps({"code": code, "loaded": loaded}) + "\n")
"""


def _run_probe(args: list[str]) -> dict:
    code = _PROBE % sorted(HEAVY)
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(args)],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("MODULES=")]
    assert line, proc.stderr
    result = json.loads(line[-1][len("MODULES=") :])
    result["stdout"] = proc.stdout
    return result


def test_help_imports_nothing_heavy():
    result = _run_probe(["--help"])
    assert result["code"] == 0
    assert "enrich" in result["stdout"] and "libraries" in result["stdout"]
    assert result["loaded"] == [], f"gsea-plus --help imported {result['loaded']}"


def test_enrich_tsv_path_imports_nothing_heavy(tmp_path):
    gmt = tmp_path / "tiny.gmt"
    gmt.write_text(gmt_text(TINY_SETS))
    genes = tmp_path / "genes.txt"
    genes.write_text("G1\nG2\nG3\n")
    result = _run_probe(["enrich", str(genes), "-l", str(gmt)])
    assert result["code"] == 0
    assert result["stdout"].startswith("Term\tOverlap\tP-value\t")
    assert result["loaded"] == [], f"gsea-plus enrich imported {result['loaded']}"


def test_enrich_never_imports_torch_or_dask_even_with_pandas_output(tmp_path):
    gmt = tmp_path / "tiny.gmt"
    gmt.write_text(gmt_text(TINY_SETS))
    genes = tmp_path / "genes.txt"
    genes.write_text("G1\nG2\nG3\n")
    out = tmp_path / "out.parquet"
    plot = tmp_path / "p.png"
    result = _run_probe(["enrich", str(genes), "-l", str(gmt), "-o", str(out), "--plot", str(plot)])
    assert result["code"] == 0
    assert out.read_bytes()[:4] == b"PAR1"
    assert not {"torch", "dask", "distributed"} & set(result["loaded"])


def test_model_based_enrich_runs_the_bundled_model_without_torch(tmp_path):
    gmt = tmp_path / "lib.gmt"
    gmt.write_text("p53\t-\tTP53\tMDM2\tCDKN1A\tBAX\nimm\t-\tCD3E\tCD4\tLCK\tZAP70\n")
    genes = tmp_path / "genes.txt"
    genes.write_text("TP53\nMDM2\n")
    result = _run_probe(["enrich", str(genes), "-l", str(gmt), "--augment", "5"])
    assert result["code"] == 0
    assert "Predicted Genes" in result["stdout"].splitlines()[0]
    assert not {"torch", "dask", "distributed"} & set(result["loaded"])


def test_import_gsea_plus_is_cheap():
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, gsea_plus; print(sorted({m.split('.')[0] for m in sys.modules}))",
        ],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    loaded = set(eval(proc.stdout))  # a printed list of names
    assert not loaded & (HEAVY | {"numpy", "requests", "rich", "typer"})


def test_public_api_surface():
    import gsea_plus

    assert gsea_plus.__all__ == sorted(gsea_plus._EXPORTS) + ["__version__"]
    for name in ("enrich", "load_library", "GeneSetLibrary", "read_gene_list", "GseaPlusError"):
        assert name in gsea_plus.__all__
    assert set(dir(gsea_plus)) == set(gsea_plus.__all__)
    with pytest.raises(AttributeError):
        gsea_plus.not_a_thing  # noqa: B018
    assert gsea_plus.__version__ == importlib.metadata.version("gsea-plus")


@pytest.mark.parametrize("name", sorted(__import__("gsea_plus")._EXPORTS))
def test_every_export_resolves(name):
    import gsea_plus

    module = gsea_plus._EXPORTS[name]
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            pytest.skip(f"{module} is not written yet")
        raise
    if getattr(mod, "__file__", None) is None:  # a namespace package: no __init__.py yet
        pytest.skip(f"{module} has no __init__.py yet")
    obj = getattr(gsea_plus, name)
    assert obj is getattr(importlib.import_module(module), name)
    if inspect.isfunction(obj):
        params = list(inspect.signature(obj).parameters.values())
        # options are keyword-only: no positional booleans or option soup
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        assert len(positional) <= 2, f"{name}{inspect.signature(obj)}"
        assert not [p for p in positional if isinstance(p.default, bool)]


def test_enrich_and_load_library_signatures():
    import gsea_plus

    sig = inspect.signature(gsea_plus.enrich)
    kinds = {p.name: p.kind for p in sig.parameters.values()}
    assert kinds["genes"] is inspect.Parameter.POSITIONAL_OR_KEYWORD
    for opt in ("background", "correction", "min_size", "max_size", "min_overlap", "offline"):
        assert kinds[opt] is inspect.Parameter.KEYWORD_ONLY, opt
    sig = inspect.signature(gsea_plus.load_library)
    assert sig.parameters["offline"].kind is inspect.Parameter.KEYWORD_ONLY


def test_help_defers_rich_markdown_and_prints_the_same_pages():
    """typer's help renderer imports rich.markdown and rich.traceback, which gsea-plus's help
    does not use: the app defers them (about 60 ms), and every help page is the same."""
    probe = (
        "import json, sys\n"
        "first = sys.argv.pop(1) == 'preload'\n"
        "if first:\n    import rich.markdown, rich.traceback\n"
        "sys.argv = ['gsea-plus'] + json.loads(sys.argv[1])\n"
        "from gsea_plus.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = {'markdown_it', 'pygments'} & {m.split('.')[0] for m in sys.modules}\n"
        "sys.stderr.write('\\nDEFERRED=%s\\n' % ','.join(sorted(heavy)))\n"
    )
    env = {**subprocess_env(), "COLUMNS": "100"}
    for args in (["--help"], ["enrich", "--help"], ["model", "train", "--help"]):
        pages = {}
        for mode in ("defer", "preload"):
            proc = subprocess.run(
                [sys.executable, "-c", probe, mode, json.dumps(args)],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
            )
            assert proc.returncode == 0, proc.stderr
            pages[mode] = proc.stdout
            loaded = proc.stderr.rsplit("DEFERRED=", 1)[1].strip()
            assert loaded == ("markdown_it,pygments" if mode == "preload" else ""), (args, mode)
        assert pages["defer"] == pages["preload"] and "Usage" in pages["defer"]


def test_the_deferred_rich_markdown_is_the_real_one_when_used():
    code = (
        "import sys\n"
        "import gsea_plus.cli.app\n"
        "from rich.markdown import Markdown\n"
        "from rich.console import Console\n"
        "import io\n"
        "buf = io.StringIO()\n"
        "Console(file=buf, width=40, color_system=None).print(Markdown('# Title\\n\\n*x*'))\n"
        "import rich.markdown as m\n"
        "from rich.traceback import Traceback\n"
        "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n"
        "    tb = Traceback.from_exception(type(e), e, e.__traceback__)\n"
        "print(buf.getvalue().strip().splitlines()[0].strip(), m.Heading.__module__,\n"
        "      type(tb).__module__)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["Title", "rich.markdown", "rich.traceback"]

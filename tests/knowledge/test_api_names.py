"""Every Python API name the shipped knowledge cites for scikit-learn, torch and numpy exists in the installed
versions and is not deprecated: learners copy what the tutor says into their code.

Which names are checked (the rule, applied to every string of the roadmaps and weekly prompts; the asked
questions are learners' words and are left alone):

- dotted names that start with a library: `sklearn.`, `torch.`, `numpy.` or `np.` (numpy);
- the field's usual short prefixes for torch: `nn.` is `torch.nn.`, `F.` is `torch.nn.functional.` and
  `prune.` is `torch.nn.utils.prune.`;
- bare names of the public scikit-learn API (`LogisticRegression`, `cross_val_score`), and of
  `torch.utils.data` (`DataLoader`), when written as code: with a capital letter or an underscore, so that
  English words that happen to be API names ("clone", "shuffle") are not read as citations;
- a bare call that looks like scikit-learn's but is not in it (`plot_confusion_matrix(...)`, a removed
  function) fails: a name ending like scikit-learn's classes (...Classifier, ...CV, ...Scaler) or functions
  (..._score, ..._curve, ..._split) and written with parentheses. Other libraries' look-alikes
  (`XGBClassifier`, `LGBMClassifier`) are told apart by their prefix.

A name fails when it does not resolve by import and getattr, or when it is deprecated: a DeprecationWarning
or FutureWarning on import or access, a PEP 702 `__deprecated__` marker (torch's `quantize_dynamic`),
scikit-learn's `deprecated` decorator (a closure message saying "deprecated", or `.. deprecated::` before
the docstring's parameters), or a function whose body always warns DeprecationWarning or FutureWarning
(`torch.jit.script` warns when called, not when accessed). Keyword arguments written in a call,
`Name(keyword=...)`, must be parameters of that callable and must not be deprecated: scikit-learn marks a
deprecated parameter with the default "deprecated", or with `.. deprecated::` saying the parameter itself
is deprecated (`LogisticRegression(penalty=...)` since 1.8).

Names are resolved in a fresh interpreter, so that a module's import-time warning is seen even when other
tests imported that module already.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
SOURCES = [*sorted((KNOWLEDGE / "roadmaps").glob("*.yaml")), *sorted((KNOWLEDGE / "prompts").glob("*.yaml"))]

PREFIXES = {
    "sklearn": "sklearn",
    "torch": "torch",
    "numpy": "numpy",
    "np": "numpy",
    "nn": "torch.nn",
    "F": "torch.nn.functional",
    "prune": "torch.nn.utils.prune",
}
DOTTED = re.compile(r"(?<![\w.])(" + "|".join(PREFIXES) + r")((?:\.[A-Za-z_]\w*)+)")
# A bare identifier that is not part of a dotted name; its dotted tail, if any, is kept.
BARE = re.compile(r"(?<![\w.])([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)*)")
LOOKS_LIKE_SKLEARN = re.compile(
    r"[A-Z]\w*(?:Classifier|Regressor|CV|Scaler|Encoder|Vectorizer|Imputer|Selector|KFold|Split|Display)"
    r"|[a-z]\w*_(?:score|curve|matrix|report|split|importance|error|predict|validate)"
)
OTHER_LIBRARIES = ("XGB", "LGBM", "CatBoost")


# --- Reading the knowledge ---------------------------------------------------------------------


def _strings(node: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every string of a parsed YAML document with the field path it sits at."""
    if isinstance(node, str):
        yield where, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{where}.{key}" if where else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, f"{where}[{i}]")


def _keywords(text: str, start: int) -> list[str]:
    """The keyword names of a call whose "(" is at `start` (top level only, nested calls and literals skipped)."""
    depth, quote, names, i = 0, "", [], start
    while i < len(text):
        char = text[i]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                break
        elif depth == 1 and not (text[i - 1].isalnum() or text[i - 1] in "._"):
            match = re.match(r"([A-Za-z_]\w*)\s*=(?!=)", text[i:])
            if match:
                names.append(match.group(1))
                i += match.end() - 1
        i += 1
    return names


def citations(text: str) -> list[dict[str, Any]]:
    """The API names a text cites: {"name", "kind" ("dotted" or "bare"), "keywords", "call"}."""
    found: list[dict[str, Any]] = []
    spans: list[tuple[int, int]] = []
    for match in DOTTED.finditer(text):
        end = match.end()
        call = end < len(text) and text[end] == "("
        name = PREFIXES[match.group(1)] + match.group(2)
        found.append({"name": name, "kind": "dotted", "keywords": _keywords(text, end) if call else [], "call": call})
        spans.append(match.span())
    for match in BARE.finditer(text):
        if any(a <= match.start() < b for a, b in spans):
            continue
        head, tail = match.group(1), match.group(2)
        if head in PREFIXES or not ((re.search(r"[A-Z_]", head) and not head.isupper()) or "_" in head):
            continue
        end = match.end()
        call = end < len(text) and text[end] == "("
        found.append(
            {"name": head + tail, "kind": "bare", "keywords": _keywords(text, end) if call else [], "call": call}
        )
    return found


def cited_names() -> list[dict[str, Any]]:
    """Every citation of the shipped roadmaps and prompts, with the file and field it comes from."""
    cited = []
    for path in SOURCES:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for where, text in _strings(document, ""):
            for citation in citations(text):
                cited.append({**citation, "where": f"{path.relative_to(KNOWLEDGE.parent)}: {where}"})
    return cited


# --- Resolving names (run in a fresh interpreter: `python test_api_names.py < citations.json`) ----------


def _always_warns_deprecation(function: Any) -> bool:
    """Whether a Python function's body warns DeprecationWarning or FutureWarning whatever it is called with:
    a warnings.warn(...) reached without passing an `if` that tests one of its parameters."""
    import ast
    import inspect
    import textwrap

    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return False
    definition = next((n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)), None)
    if definition is None:
        return False
    arguments = definition.args
    parameters = {a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]}
    parameters |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}

    def is_deprecation_warning(call: ast.Call) -> bool:
        function_name = ast.unparse(call.func)
        if not function_name.endswith("warn"):
            return False
        categories = [*call.args[1:2], *(k.value for k in call.keywords if k.arg == "category")]
        return any(ast.unparse(c).split(".")[-1] in {"DeprecationWarning", "FutureWarning"} for c in categories)

    def reaches(statements: list[ast.stmt]) -> bool:
        for statement in statements:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            if isinstance(statement, ast.If):
                tested = {n.id for n in ast.walk(statement.test) if isinstance(n, ast.Name)}
                if tested & parameters:
                    continue
                if reaches(statement.body) or reaches(statement.orelse):
                    return True
                continue
            if isinstance(statement, ast.Try | ast.With):
                if reaches(statement.body):
                    return True
                continue
            if (
                isinstance(statement, ast.Expr)
                and isinstance(statement.value, ast.Call)
                and is_deprecation_warning(statement.value)
            ):
                return True
        return False

    return reaches(definition.body)


def _deprecation(obj: Any) -> str | None:
    """Why `obj` is deprecated, or None."""
    import inspect

    marker = getattr(obj, "__deprecated__", None)
    if isinstance(marker, str):
        return f"marked deprecated: {marker.splitlines()[0]}"
    doc = inspect.getdoc(obj) or ""
    if ".. deprecated::" in re.split(r"\n\s*Parameters\n\s*-{3,}", doc, maxsplit=1)[0]:
        return "its docstring says it is deprecated"
    functions = [obj]
    if isinstance(obj, type):
        functions = [vars(obj).get("__new__"), vars(obj).get("__init__")]
    for function in functions:
        closure = getattr(function, "__closure__", None) or ()
        messages = [c.cell_contents for c in closure if isinstance(c.cell_contents, str)]
        if any("deprecated" in message.lower() for message in messages):
            return "wrapped by a deprecation decorator"
        if inspect.isfunction(function) and _always_warns_deprecation(function):
            return "always warns DeprecationWarning or FutureWarning when called"
    return None


def _parameter_problem(obj: Any, keyword: str) -> str | None:
    """Why `obj(keyword=...)` is wrong (no such parameter, or a deprecated one), or None."""
    import inspect

    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    parameter = signature.parameters.get(keyword)
    if parameter is None:
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()):
            return None
        return f"has no parameter {keyword!r}"
    if isinstance(parameter.default, str) and parameter.default == "deprecated":
        return f"parameter {keyword!r} is deprecated (its default is 'deprecated')"
    doc = inspect.getdoc(obj) or ""
    block = re.search(rf"^{re.escape(keyword)} :.*?(?=^\S|\Z)", doc, re.MULTILINE | re.DOTALL)
    if block and re.search(
        rf"\.\. deprecated::[^\n]*\n\s*`?{re.escape(keyword)}`? (?:is|was|has been) deprecated", block.group(0)
    ):
        return f"parameter {keyword!r} is deprecated (its documentation says so)"
    return None


def _bare_index() -> dict[str, str]:
    """Bare names learners write for the public scikit-learn API and torch.utils.data: name -> module."""
    import importlib

    import sklearn
    import torch.utils.data

    index: dict[str, str] = {}
    # sklearn.__all__ lists its public modules (and a few top-level functions, which are not modules).
    for module_name in [f"sklearn.{m}" for m in sklearn.__all__] + ["sklearn.feature_extraction.text"]:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for name in getattr(module, "__all__", ()):
            index.setdefault(name, module_name)
    for name in torch.utils.data.__all__:
        index.setdefault(name, "torch.utils.data")
    return index


def _resolve(dotted: str) -> Any:
    """The object a fully qualified name names: import the longest module prefix, then getattr the rest."""
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            obj = getattr(obj, attribute)
        return obj
    raise ImportError(f"no module {parts[0]!r}")


def resolve(cited: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For each citation, whether its name resolves and is current: {**citation, "problem": str | None}."""
    import warnings

    warnings.simplefilter("always")
    import numpy  # noqa: F401  (the libraries themselves may warn on import; that is not the knowledge's doing)
    import sklearn  # noqa: F401
    import torch  # noqa: F401

    index = _bare_index()
    results = []
    for citation in cited:
        name, problem = citation["name"], None
        if citation["kind"] == "bare":
            head = name.split(".")[0]
            if head not in index:
                sklearn_like = LOOKS_LIKE_SKLEARN.fullmatch(head) and not head.startswith(OTHER_LIBRARIES)
                if citation["call"] and sklearn_like:
                    results.append({**citation, "problem": "looks like scikit-learn API but is not in it"})
                continue
            name = f"{index[head]}.{name}"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                obj = _resolve(name)
            except (ImportError, AttributeError) as error:
                obj, problem = None, f"does not exist ({error})"
        warned = [w for w in caught if issubclass(w.category, DeprecationWarning | FutureWarning)]
        if problem is None and warned:
            problem = f"warns on import or access: {str(warned[0].message).splitlines()[0]}"
        if problem is None:
            problem = _deprecation(obj)
        if problem is None:
            for keyword in citation["keywords"]:
                problem = _parameter_problem(obj, keyword)
                if problem:
                    break
        results.append({**citation, "resolved": name, "problem": problem})
    return results


def resolve_in_a_fresh_interpreter(cited: list[dict[str, Any]]) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve())],
        input=json.dumps(cited),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


# --- Tests -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def resolved() -> list[dict[str, Any]]:
    return resolve_in_a_fresh_interpreter(cited_names())


def test_every_cited_api_name_exists_and_is_current(resolved: list[dict[str, Any]]) -> None:
    wrong = [f"{r['where']}: {r['name']} {r['problem']}" for r in resolved if r["problem"]]
    assert not wrong, "\n".join(wrong)


def test_the_knowledge_cites_names_of_every_library(resolved: list[dict[str, Any]]) -> None:
    """The extraction finds what the knowledge cites; a rule that matched nothing would pass vacuously."""
    names = {r.get("resolved") or r["name"] for r in resolved}
    for library in ("sklearn.", "torch.", "torch.nn.", "torch.nn.functional.", "torch.nn.utils.prune.", "numpy."):
        assert any(n.startswith(library) for n in names), library
    assert len(names) >= 80


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        # A deprecated function: warns only when called (torch.jit), or carries a PEP 702 marker (torch.ao).
        ("Script it with torch.jit.script(model).", "always warns"),
        ("Use torch.ao.quantization.quantize_dynamic on Linear layers.", "marked deprecated"),
        # A deprecated parameter of a current class, and a parameter that does not exist.
        ("LogisticRegression(penalty='l1', solver='saga')", "parameter 'penalty' is deprecated"),
        ("nn.CrossEntropyLoss(weights=class_weights)", "has no parameter 'weights'"),
        # Names that do not exist, dotted, behind a short prefix, or bare and shaped like scikit-learn's.
        ("sklearn.metrics.plot_roc_curve(model, X, y)", "does not exist"),
        ("nn.Dense(10)", "does not exist"),
        ("plot_confusion_matrix(model, X, y)", "looks like scikit-learn API"),
    ],
)
def test_a_deprecated_or_missing_name_is_caught(text: str, problem: str) -> None:
    results = resolve_in_a_fresh_interpreter([{**c, "where": "example"} for c in citations(text)])
    assert any(r["problem"] and problem in r["problem"] for r in results), results


def test_current_names_and_other_libraries_pass() -> None:
    text = (
        "LogisticRegression(l1_ratio=1, solver='liblinear', C=np.inf); nn.CrossEntropyLoss(weight=w); "
        "F.kl_div; prune.ln_structured; DataLoader(batch_size=64, num_workers=2); XGBClassifier(n_estimators=10); "
        "torch.onnx.export(model, args, dynamic_shapes=shapes); clone the repository and shuffle the data."
    )
    results = resolve_in_a_fresh_interpreter([{**c, "where": "example"} for c in citations(text)])
    assert [r for r in results if r["problem"]] == []
    assert {"sklearn.linear_model.LogisticRegression", "numpy.inf", "torch.utils.data.DataLoader"} <= {
        r.get("resolved") for r in results
    }


if __name__ == "__main__":
    json.dump(resolve(json.load(sys.stdin)), sys.stdout)

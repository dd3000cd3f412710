"""A scene's two written forms: JSON text (a scene file) and a URL query (a link).

:class:`~optviz.scene.Scene` calls these (``to_json``/``from_json``/``save``/``load``,
``to_query``/``from_query``); nothing here checks a scene's values, which
:meth:`Scene.from_dict <optviz.scene.Scene.from_dict>` does once, naming the key at fault.

- **JSON** (:func:`dumps`, :func:`loads`, :func:`write_atomic`): every value explicit; floats as
  ``repr`` (they come back bit for bit); NaN, infinities and a key given twice are refused.
- **URL** (:func:`to_query`, :func:`query_data`): ``str -> str``, short: values equal to their
  defaults are left out (hyperparameters equal to the scene's ``rates`` policy's values, seed 0,
  the constant schedule, ...), and so are the points of grid, random and ring starts (recomputed).

Versions: :data:`VERSION` is written. Version 1 (before the rates policy) left out the values
equal to the registry's and wrote a group as its bare key (``adam``); such links and files are
read as they were made (``rates="article"``, ``adam`` the group). Version 2 leaves out the values
equal to the ``rates`` policy's and writes a group as ``group:adam`` (a bare ``adam`` is Adam).
"""

from __future__ import annotations

import json
import math
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

import functions as _functions
from optviz.optimizers import GROUP_PREFIX, GROUPS, MODERN, REGISTRY, group_label, resolve_item
from optviz.optimizers import get as get_optimizer
from optviz.optimizers import rates as rate_policy
from optviz.optimizers import typed as typed_rules
from optviz.scene.text import quote

#: The scene format this optviz writes (and the newest it reads). Version 1: what a file or link
#: leaves out is the registry's; version 2: the scene's ``rates`` policy's (and it has ``rates``).
VERSION = 2
#: The rates policy of a version-1 scene: the registry's values (there was no other then).
V1_RATES = "article"
START_MODES = ("grid", "random", "ring", "points")
#: Query keys that Streamlit itself may put in a page's URL; ignored by :func:`query_data`.
STREAMLIT_QUERY_KEYS = ("embed", "embed_options")
MAX_JSON_CHARS = 20_000_000
#: At most this many points in one URL parameter (``pts``, ``min``).
MAX_QUERY_POINTS = 100_000


# ---------------------------------------------------------------------- JSON
def num_text(v: Any) -> str:
    """A number as text that reads back exactly: ``repr`` of the float, ints as ints."""
    if isinstance(v, bool):
        raise ValueError(f"expected a number, got {v!r}")
    if isinstance(v, int | np.integer):
        return str(int(v))
    return repr(float(v))


def dumps(data: Any, indent: int | None = 2) -> str:
    """JSON text (floats as ``repr``: exact); with ``indent``, a point's numbers stay on one line."""
    if indent is None:
        return json.dumps(data, allow_nan=False)
    return _dumps(data, indent, 0) + "\n"


def loads(text: str | bytes) -> Any:
    """Plain data from scene JSON text; a one-line ValueError for text that is not UTF-8, too
    large, not JSON, nested too deeply, with NaN or infinities, or with a key given twice."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")  # a byte-order mark (Windows' Notepad) is read past
        except UnicodeDecodeError:
            raise ValueError("scene: not UTF-8 text") from None
    if not isinstance(text, str):
        raise ValueError(f"scene: expected JSON text, got {type(text).__name__}")
    text = text.removeprefix("\ufeff")
    if len(text) > MAX_JSON_CHARS:
        raise ValueError(f"scene: too large ({len(text):,} characters, at most {MAX_JSON_CHARS:,})")

    def refuse_constant(name: str) -> None:
        raise ValueError(f"scene: {name} is not a finite number (not allowed in a scene)")

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise ValueError(f"scene: the key {key!r} appears twice")
            out[key] = value
        return out

    try:
        return json.loads(text, parse_constant=refuse_constant, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"scene: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise ValueError("scene: not valid JSON (nested too deeply)") from None


def write_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file (never half-written; the file gets the
    permissions of any new file, the umask's, not a temporary file's 0600)."""
    path = Path(path)
    if path.exists() and not path.is_file() and not path.is_dir():  # only regular files (a device: never)
        raise ValueError(f"cannot write {os.fspath(path)!r}: not a regular file (a device, FIFO or socket)")
    fd, tmp = _new_temp(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# ---------------------------------------------------------------------- URL
def to_query(scene: Any) -> dict[str, str]:
    """A compact ``str -> str`` mapping of a (normalized) scene for a URL; see :func:`query_data`."""
    q: dict[str, str] = {"v": str(VERSION)}
    f = scene.function
    if f.expression is not None:
        q["expr"] = f.expression
        q["box"] = ",".join(num_text(v) for row in f.box or () for v in row)
        if f.minimizers is not None:
            q["min"] = ";".join(",".join(num_text(v) for v in p) for p in f.minimizers)
    else:
        fam = _functions.families()[f.name]  # type: ignore[index]
        changed = {k: v for k, v in f.params.items() if fam.params.get(k) != v}
        q["fn"] = _item(f.name, changed)  # type: ignore[arg-type]
        if f.dim != fam.default_dim:
            q["dim"] = str(f.dim)
    if scene.rules:
        q["rules"] = json.dumps(dict(scene.rules), separators=(",", ":"), ensure_ascii=False)
    q["opt"] = _optimizers_query(scene.optimizers, scene.function, scene.rates)
    q["rates"] = scene.rates
    s = scene.starts
    settings = {k: getattr(s, k) for k in s.SETTINGS[s.mode]}
    q["starts"] = _item(s.mode, settings)
    if s.mode == "points":
        q["pts"] = ";".join(",".join(num_text(v) for v in p) for p in s.points or ())
    q["steps"] = str(scene.steps)
    defaults = {
        "seed": 0,
        "schedule": "constant",
        "hooks": (),
        "noise": 0.0,
        "noise_mode": "absolute",
        "delay": 0,
        "batch": None,
        "dtype": "float64",
        "error": "auto",
        "tol": 1e-3,
    }
    for attr, key in QUERY_FIELDS.items():
        value = getattr(scene, attr)
        if value == defaults[attr]:
            continue
        if attr == "hooks":
            q[key] = ";".join(value)
        elif isinstance(value, str):
            q[key] = value
        else:
            q[key] = num_text(value)
    return q


def query_data(query: Mapping[str, Any], ignore: Iterable[str] = STREAMLIT_QUERY_KEYS) -> dict[str, Any]:
    """:func:`to_query`'s mapping (e.g. ``st.query_params``) as a scene's plain data (the form
    :meth:`optviz.scene.Scene.from_dict` checks), or a one-line ValueError naming the parameter.

    Keys: ``v`` (version), ``fn`` (``name[:param=value,...]``) and ``dim``, or ``expr``,
    ``box`` (``lo,hi[,lo,hi]``) and ``min`` (``x[,y];...``; absent: estimated; empty:
    none); ``opt`` (``Name[:hp=value,...];...``, where a group such as ``all`` or
    ``group:adam`` lists its members and a later ``Name:...`` changes one of them; a value
    left out is the ``rates`` policy's); ``rates`` (``tuned`` or ``article``); ``starts``
    (``grid:n=4`` | ``random:n=16,seed=0`` | ``ring:n=16,radius=0.4,center=minimum`` |
    ``points``) and ``pts`` (``x,y;x,y``, for typed points); ``steps``; and, when not the
    default, ``seed``, ``sched``, ``hooks`` (``;``-separated), ``noise``, ``noise_mode``,
    ``delay``, ``batch``, ``dtype``, ``err``, ``tol``. Keys in ``ignore`` are skipped; any other key is
    an error. A version-1 link (``v=1``) reads as it was made (see the module docstring).
    """
    if not isinstance(query, Mapping):
        raise ValueError(f"URL: expected a mapping of parameters, got {quote(query)}")
    q = dict(query)
    skip = set(ignore)
    q = {k: v for k, v in q.items() if k not in skip}
    for key, value in q.items():
        if not isinstance(value, str):
            raise ValueError(f"URL parameter {key!r}: expected text, got {quote(value)}")
    known = (
        "v",
        "fn",
        "dim",
        "expr",
        "box",
        "min",
        "opt",
        "starts",
        "pts",
        "steps",
        "rates",
        "rules",
        *QUERY_FIELDS.values(),
    )
    extra = [k for k in q if k not in known]
    if extra:
        raise ValueError(f"URL parameter {extra[0]!r}: unknown; valid: {', '.join(known)}")
    if "v" not in q:
        raise ValueError(
            "URL parameter 'v' (the scene version) is missing: this is not an optviz scene link"
        )
    version = _int_text(q["v"], "v")
    if version > VERSION:
        raise ValueError(
            f"version: this link was made by a newer optviz (scene version {version}); "
            f"this optviz reads scene versions up to {VERSION}: update optviz to open it"
        )
    data: dict[str, Any] = {"version": version}
    if "expr" in q:
        for key in ("fn", "dim"):
            if key in q:
                raise ValueError(f"URL parameter {key!r}: not with 'expr' (a typed function)")
        func: dict[str, Any] = {"expression": q["expr"]}
        if "box" in q:
            nums = _floats_text(q["box"], "box")
            if len(nums) % 2:
                raise ValueError(
                    "URL parameter 'box': expected lo,hi per coordinate (an even count of numbers)"
                )
            func["box"] = [nums[i : i + 2] for i in range(0, len(nums), 2)]
        if "min" in q:
            func["minimizers"] = _rows_text(q["min"], "min")
        data["function"] = func
    elif "fn" in q:
        for key in ("box", "min"):
            if key in q:
                raise ValueError(f"URL parameter {key!r}: only with 'expr' (a typed function)")
        name, params = _parse_item(q["fn"], "fn")
        data["function"] = {
            "name": name,
            "params": {k: _float_text(v, f"fn {name}.{k}") for k, v in params.items()},
        }
        if "dim" in q:
            data["function"]["dim"] = _int_text(q["dim"], "dim")
    else:
        raise ValueError("URL: give the function ('fn' for a registry name, or 'expr' for a typed one)")
    if "rules" in q:  # typed rules, registered before the optimizer names that use them
        data["rules"] = _rules_text(q["rules"])
    if "opt" not in q:
        raise ValueError("URL parameter 'opt' (the optimizers) is missing")
    data["optimizers"] = _optimizers_from_query(q["opt"], version)
    if "rates" in q:
        data["rates"] = q["rates"]
    if "starts" not in q:
        raise ValueError("URL parameter 'starts' is missing")
    mode, settings = _parse_item(q["starts"], "starts")
    if mode not in START_MODES:
        raise ValueError(
            f"URL parameter 'starts': unknown mode {mode!r}; valid: {', '.join(START_MODES)}"
        )
    starts: dict[str, Any] = {"mode": mode}
    for key, value in settings.items():
        if key == "center":
            starts[key] = value
        elif key == "radius":
            starts[key] = _float_text(value, f"starts {key}")
        else:
            starts[key] = _int_text(value, f"starts {key}")
    if "pts" in q:
        if mode != "points":
            raise ValueError(
                "URL parameter 'pts': only with starts=points (other modes compute their points)"
            )
        starts["points"] = _rows_text(q["pts"], "pts")
    data["starts"] = starts
    if "steps" in q:
        data["steps"] = _int_text(q["steps"], "steps")
    view: dict[str, Any] = {}
    for attr, key in QUERY_FIELDS.items():
        if key not in q:
            continue
        text = q[key]
        if attr in ("seed", "delay", "batch"):
            data[attr] = _int_text(text, key)
        elif attr in ("noise",):
            data[attr] = _float_text(text, key)
        elif attr == "tol":
            view["tol"] = _float_text(text, key)
        elif attr == "error":
            view["error"] = text
        elif attr == "hooks":
            data["hooks"] = [h for h in text.split(";") if h.strip()]
        else:
            data[attr] = text
    if view:
        data["view"] = view
    return data


def _new_temp(path: Path) -> tuple[int, str]:
    """A new hidden file beside ``path``, created as any new file is (mode 0666 less the umask)."""
    for _ in range(100):
        tmp = os.path.join(path.parent or ".", f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file next to {os.fspath(path)!r}")


def _dumps(obj: Any, indent: int, level: int) -> str:
    """Indented JSON whose innermost lists (a point, a box row) stay on one line."""
    pad, inner = " " * (indent * level), " " * (indent * (level + 1))
    if isinstance(obj, dict) and obj:
        items = [f"{inner}{json.dumps(k)}: {_dumps(v, indent, level + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and obj and any(isinstance(v, list | dict) for v in obj):
        return "[\n" + ",\n".join(inner + _dumps(v, indent, level + 1) for v in obj) + "\n" + pad + "]"
    return json.dumps(obj, allow_nan=False)


#: Scene attribute -> URL key, for the settings the URL leaves out when they are the default.
QUERY_FIELDS = {
    "seed": "seed",
    "schedule": "sched",
    "hooks": "hooks",
    "noise": "noise",
    "noise_mode": "noise_mode",
    "delay": "delay",
    "batch": "batch",
    "dtype": "dtype",
    "error": "err",
    "tol": "tol",
}


def _item(name: str, settings: Mapping[str, Any]) -> str:
    """``name:key=value,key=value`` (values as exact text)."""
    args = ",".join(f"{k}={v if isinstance(v, str) else num_text(v)}" for k, v in settings.items())
    return f"{name}:{args}" if args else name


def _parse_item(text: str, key: str) -> tuple[str, dict[str, str]]:
    """Split ``name:key=value,...`` (the values stay text)."""
    name, _, rest = text.strip().partition(":")
    name = name.strip()
    if not name:
        raise ValueError(f"URL parameter {key!r}: expected name[:key=value,...], got {text!r}")
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        k, eq, v = part.partition("=")
        if not eq or not k.strip():
            raise ValueError(f"URL parameter {key!r}: expected key=value after {name}:, got {part!r}")
        if k.strip() in out:
            raise ValueError(f"URL parameter {key!r}: {k.strip()} is given twice")
        out[k.strip()] = v.strip()
    return name, out


def _float_text(text: str, what: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise ValueError(f"URL parameter {what}: expected a number, got {text!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"URL parameter {what}: expected a finite number, got {text!r}")
    return v


def _int_text(text: str, what: str) -> int:
    t = text.strip()
    if not (t.isdigit() or (t[:1] == "-" and t[1:].isdigit())) or len(t) > 20:
        raise ValueError(f"URL parameter {what}: expected a whole number, got {text!r}")
    return int(t)


def _floats_text(text: str, what: str) -> list[float]:
    parts = [p for p in text.split(",") if p.strip()]
    if len(parts) > 1000:
        raise ValueError(f"URL parameter {what!r}: too many numbers")
    return [_float_text(p, what) for p in parts]


def _rows_text(text: str, what: str) -> list[list[float]]:
    rows = [r for r in text.split(";") if r.strip()]
    if len(rows) > MAX_QUERY_POINTS:
        raise ValueError(f"URL parameter {what!r}: too many points")
    return [_floats_text(r, what) for r in rows]


def _rules_text(text: str) -> dict[str, str]:
    """The ``rules`` parameter (JSON: rule name -> rule text), checked and registered."""
    if len(text) > typed_rules.MAX_RULES * typed_rules.MAX_CHARS * 2:
        raise ValueError("URL parameter 'rules': too long")
    try:
        rules = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("URL parameter 'rules': expected JSON text {\"name\": \"rule text\"}") from None
    try:
        return typed_rules.register_texts(rules)
    except ValueError as exc:
        raise ValueError(f"URL parameter {exc}") from None


def _optimizers_query(optimizers: Mapping[str, Mapping[str, float]], function: Any,
                      rates: str) -> str:
    """``group;Name:hp=v`` when the names are a group in order (``all``, ``group:adam``), else
    ``Name[:hp=v];...``; hyperparameters equal to the ``rates`` policy's values are left out."""
    names = tuple(optimizers)
    fname, fdim, fparams = function.rate_key()
    changed = {}
    for n, hps in optimizers.items():
        base = rate_policy.defaults(n, fname, fdim, rates, params=fparams)
        changed[n] = {k: v for k, v in hps.items() if base.get(k) != v}
    group = next((g for g, members in GROUPS.items() if members == names), None)
    if group is not None:
        return ";".join([group_label(group), *(_item(n, c) for n, c in changed.items() if c)])
    return ";".join(_item(n, c) for n, c in changed.items())


def _query_group(part: str, version: int) -> tuple[str, ...] | None:
    """The members if ``part`` of ``opt`` names a group: ``all`` or ``group:key``; in a version-1
    link a bare lower-case group key (``adam``: optimizers were written capitalized)."""
    key = part.strip()
    if version == 1:  # the groups as version 1 knew them: without today's optimizers (issue 20)
        members = GROUPS.get(key)
        return None if members is None else tuple(n for n in members if n not in MODERN)
    if key.lower() == "all" or key.lower().startswith(GROUP_PREFIX):
        try:
            return resolve_item(key)[0]
        except ValueError as exc:
            raise ValueError(f"URL parameter 'opt': {exc}") from None
    return None


def _optimizers_from_query(text: str, version: int = VERSION) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    from_group: set[str] = set()
    items = [p for p in text.split(";") if p.strip()]
    if len(items) > 4 * len(REGISTRY):
        raise ValueError("URL parameter 'opt': too many items")
    for part in items:
        members = _query_group(part, version)
        if members is not None:
            for member in members:
                if member not in out:
                    out[member] = {}
                    from_group.add(member)
            continue
        name, settings = _parse_item(part, "opt")
        try:
            canon = get_optimizer(name).name
        except KeyError as exc:
            raise ValueError(f"URL parameter 'opt': {exc.args[0]}") from None
        if canon in out and canon not in from_group:
            raise ValueError(f"URL parameter 'opt': {canon} is listed twice")
        from_group.discard(canon)
        out.setdefault(canon, {}).update({k: _float_text(v, f"opt {canon}.{k}") for k, v in settings.items()})
    return out


__all__ = [
    "MAX_JSON_CHARS", "QUERY_FIELDS", "START_MODES", "STREAMLIT_QUERY_KEYS", "V1_RATES", "VERSION", "dumps",
    "loads", "num_text", "query_data", "to_query", "write_atomic",
]  # fmt: skip

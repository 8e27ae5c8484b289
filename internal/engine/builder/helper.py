"""ferry build helper, run by the deployment's Python with `python -c`.

  requirements RESULT FILE          are FILE's requirements already installed?
  entrypoint RESULT CANDIDATE...    find the app among CANDIDATE files, import it, classify it

The app is the first candidate's top-level `app` or `application` (WSGI or ASGI), else the first
candidate's top-level `handler`, a BaseHTTPRequestHandler subclass as in Vercel's Python runtime.

The answer goes to RESULT as JSON so that whatever the app prints while it is
imported lands in the build log without corrupting the answer.
"""

import sys

# With -c, Python puts the working directory (the app's) first on sys.path:
# a json.py or inspect.py of the app must not replace the modules used here.
if sys.path and sys.path[0] == "":
    del sys.path[0]

import ast
import importlib
import importlib.metadata
import importlib.util
import inspect
import json
import os
import re
import traceback

# Options that say where to find packages, not which ones are required: when
# everything is installed, pip does not look at them either.
INDEX_OPTIONS = {
    "-i", "--index-url", "--extra-index-url", "--no-index", "-f", "--find-links",
    "--trusted-host", "--pre", "--prefer-binary", "--only-binary", "--no-binary",
}
REQUIREMENT_FILE_OPTIONS = {"-r", "--requirement"}
APP_ATTRIBUTES = ("app", "application")
HANDLER_ATTRIBUTE = "handler"


class Undecidable(Exception):
    """The fast path cannot tell; pip has to decide."""


def write_result(path, result):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(result, f)


# ---- requirements ----------------------------------------------------------


def load_packaging():
    """packaging itself, else the copy vendored in pip, else None."""
    for package in ("packaging", "pip._vendor.packaging"):
        try:
            requirements = importlib.import_module(package + ".requirements")
            version = importlib.import_module(package + ".version")
        except ImportError:
            continue
        return requirements.Requirement, version.Version
    return None


def requirement_lines(path, seen):
    """Yield requirement strings of a pip requirements file, following -r."""
    path = os.path.abspath(path)
    if path in seen:
        return
    seen.add(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise Undecidable("cannot be read here (%s)" % exc)
    text = re.sub(r"\\\r?\n", "", text)  # pip joins continuation lines
    for raw in text.splitlines():
        line = " ".join(re.sub(r"(^|\s)#.*$", "", raw).split())
        line = re.sub(r"\$\{([A-Z0-9_]+)\}", lambda m: os.environ.get(m.group(1), m.group(0)), line)
        if not line:
            continue
        if line.startswith("-"):
            parts = re.split(r"[=\s]+", line, maxsplit=1)
            option = parts[0]
            value = parts[1] if len(parts) > 1 else ""
            if option in REQUIREMENT_FILE_OPTIONS and value:
                yield from requirement_lines(os.path.join(os.path.dirname(path), value), seen)
            elif option in INDEX_OPTIONS:
                continue
            else:
                raise Undecidable("uses the option " + option)
            continue
        if re.search(r"\s-", line):
            raise Undecidable("has per-requirement options in " + repr(line))
        yield line


def installed_version(name):
    try:
        return importlib.metadata.distribution(name).version
    except importlib.metadata.PackageNotFoundError:
        return None


def check_with_packaging(line, packaging):
    Requirement, Version = packaging

    def matches(requirement, version):
        try:
            return requirement.specifier.contains(Version(version), prereleases=True)
        except Exception:  # an installed version that is not PEP 440
            raise Undecidable("has %s installed as %r, which only pip can compare" % (requirement.name, version))

    try:
        req = Requirement(line)
    except Exception:
        raise Undecidable("lists %r, which only pip can check" % line)
    if req.url:
        raise Undecidable("installs %r from a URL" % line)
    if req.marker and not req.marker.evaluate():
        return {"requirement": line, "ok": True, "skipped": "marker does not apply"}
    version = installed_version(req.name)
    if version is None:
        return {"requirement": line, "ok": False, "reason": "not installed"}
    if not matches(req, version):
        return {"requirement": line, "ok": False, "installed": version,
                "reason": "installed %s does not match %s" % (version, req.specifier)}
    for extra in sorted(req.extras):
        for dependency in importlib.metadata.requires(req.name) or []:
            dep = Requirement(dependency)
            if not dep.marker or not dep.marker.evaluate({"extra": extra}) or dep.marker.evaluate({"extra": ""}):
                continue
            dep_version = installed_version(dep.name)
            if dep_version is None or not matches(dep, dep_version):
                return {"requirement": line, "ok": False, "installed": version,
                        "reason": "extra [%s] needs %s" % (extra, dependency.split(";")[0].strip())}
    return {"requirement": line, "ok": True, "installed": version}


def numeric_release(version, line):
    if not re.fullmatch(r"\d+(\.\d+)*", version):
        raise Undecidable("lists %r, which only pip can check here" % line)
    return [int(part) for part in version.split(".")]


def release_compare(a, b):
    width = max(len(a), len(b))
    a, b = a + [0] * (width - len(a)), b + [0] * (width - len(b))
    return (a > b) - (a < b)


def check_without_packaging(line):
    """Names with plain numeric version bounds; anything fancier goes to pip."""
    match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)", line)
    if not match or ";" in line or "[" in line or "@" in line:
        raise Undecidable("lists %r, which only pip can check here" % line)
    name, constraints = match.groups()
    version = installed_version(name)
    if version is None:
        return {"requirement": line, "ok": False, "reason": "not installed"}
    have = numeric_release(version, line)
    tests = {
        "==": lambda c: c == 0, "!=": lambda c: c != 0, ">=": lambda c: c >= 0,
        "<=": lambda c: c <= 0, ">": lambda c: c > 0, "<": lambda c: c < 0,
    }
    for clause in filter(None, (c.strip() for c in constraints.split(","))):
        op_match = re.fullmatch(r"(==|!=|>=|<=|>|<)\s*(\S+)", clause)
        if not op_match:
            raise Undecidable("lists %r, which only pip can check here" % line)
        op, wanted = op_match.groups()
        if not tests[op](release_compare(have, numeric_release(wanted, line))):
            return {"requirement": line, "ok": False, "installed": version,
                    "reason": "installed %s does not match %s" % (version, constraints)}
    return {"requirement": line, "ok": True, "installed": version}


def check_requirements(result_path, requirements_path):
    result = {"pip": importlib.util.find_spec("pip") is not None, "checked": [], "undecidable": ""}
    packaging = load_packaging()
    try:
        for line in requirement_lines(requirements_path, set()):
            if packaging:
                result["checked"].append(check_with_packaging(line, packaging))
            else:
                result["checked"].append(check_without_packaging(line))
    except Undecidable as exc:
        result["undecidable"] = str(exc)
    write_result(result_path, result)


# ---- entrypoint ------------------------------------------------------------


def top_level_names(body):
    """Names a module body binds, looking into if/try/with blocks but not into functions or classes."""
    names = set()
    blocks = (ast.If, ast.Try, ast.With) + ((ast.TryStar,) if hasattr(ast, "TryStar") else ())
    for node in body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, ast.AnnAssign) and node.value is not None and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update(alias.asname or alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, blocks):
            for field in ("body", "orelse", "finalbody"):
                names |= top_level_names(getattr(node, field, []))
            for handler in getattr(node, "handlers", []):
                names |= top_level_names(handler.body)
    return names


def find_app(candidates):
    """The first candidate that binds an app attribute, else the first that binds `handler`, and what
    was wrong with the others."""
    examined = []  # (file, its top-level names or None, problem)
    for relative in candidates:
        if not os.path.isfile(relative):
            continue
        try:
            with open(relative, "rb") as f:
                tree = ast.parse(f.read(), filename=relative)
        except SyntaxError as exc:
            examined.append((relative, None, "SyntaxError: %s (line %s)" % (exc.msg, exc.lineno)))
            continue
        names = top_level_names(tree.body)
        for attribute in APP_ATTRIBUTES:
            if attribute in names:
                return relative, attribute, []
        examined.append((relative, names, "defines none of `app`, `application` and `handler`"))
    # A handler counts only when no file has an app: adding a handler file to a project that serves an
    # app never changes what it serves.
    for relative, names, _ in examined:
        if names is not None and HANDLER_ATTRIBUTE in names:
            return relative, HANDLER_ATTRIBUTE, []
    return None, None, [{"file": relative, "problem": problem} for relative, _, problem in examined]


def print_traceback(exc):
    """The traceback without the import machinery's and this helper's frames."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith("<") and f.filename != importlib.__file__]
    if frames:
        print("Traceback (most recent call last):", file=sys.stderr)
        print("".join(traceback.format_list(frames)), end="", file=sys.stderr)
    print("".join(traceback.format_exception_only(type(exc), exc)), end="", file=sys.stderr)


def framework_of(app):
    modules = [cls.__module__ for cls in type(app).__mro__]
    for framework in ("flask", "fastapi"):
        if any(m == framework or m.startswith(framework + ".") for m in modules):
            return framework
    return "other"


def is_asgi(app):
    # Starlette, FastAPI, Quart, Django's ASGIHandler and plain `async def app(scope, receive, send)`
    # are all awaited when called; WSGI applications never are.
    return inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(getattr(app, "__call__", None))


def is_handler_class(value):
    from http.server import BaseHTTPRequestHandler
    return inspect.isclass(value) and issubclass(value, BaseHTTPRequestHandler)


def inspect_entrypoint(result_path, candidates):
    relative, attribute, examined = find_app(candidates)
    if relative is None:
        write_result(result_path, {"error": "not_found", "examined": examined})
        return
    module_name = relative[: -len(".py")].replace("/", ".")
    result = {"file": relative, "module": module_name, "attribute": attribute}
    sys.path.insert(0, os.getcwd())
    sys.argv = [relative]
    # Said before importing, so that a hanging import shows which file it was.
    print("ferry: importing %s for `%s`" % (relative, attribute), flush=True)
    try:
        module = importlib.import_module(module_name)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt from the app are failures too
        print_traceback(exc)
        result.update(error="import_failed", exception="%s: %s" % (type(exc).__name__, exc))
        write_result(result_path, result)
        return
    app = getattr(module, attribute, None)
    if app is None:
        result["error"] = "missing_attribute"
    elif attribute == HANDLER_ATTRIBUTE:
        if is_handler_class(app):
            result.update(kind="handler", framework="other")
        else:
            result.update(error="not_handler_class", type="class" if inspect.isclass(app) else type(app).__name__)
    elif not callable(app):
        result.update(error="not_callable", type=type(app).__name__)
    else:
        result.update(kind="asgi" if is_asgi(app) else "wsgi", framework=framework_of(app))
    write_result(result_path, result)


def main():
    command, result_path, *args = sys.argv[1:]
    if command == "requirements":
        check_requirements(result_path, args[0])
    elif command == "entrypoint":
        inspect_entrypoint(result_path, args)
    else:
        raise SystemExit("unknown command " + command)
    sys.stdout.flush()
    sys.stderr.flush()
    # Threads the app started at import time must not keep the build waiting.
    os._exit(0)


main()

"""ferry build helper, run by the deployment's Python with `python -c`.

  requirements RESULT FILE     are FILE's requirements already installed?
  scan RESULT FILE...          which name does each FILE define for the app (app, application, handler)?
  inspect RESULT JSON          import and classify the entrypoints of JSON ({entries: [{file, module, attribute}]}),
                               or the first of {first_of: [{file, module}]} that defines an app
  django RESULT                the settings module and the application Django's manage.py names
  importable RESULT MODULE...  which MODULEs cannot be imported?

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
import runpy
import traceback

# Options that say where to find packages, not which ones are required: when
# everything is installed, pip does not look at them either.
INDEX_OPTIONS = {
    "-i", "--index-url", "--extra-index-url", "--no-index", "-f", "--find-links",
    "--trusted-host", "--pre", "--prefer-binary", "--only-binary", "--no-binary",
}
REQUIREMENT_FILE_OPTIONS = {"-r", "--requirement"}


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

APP_NAMES = ("app", "application")


def first_app_name(body):
    """The first name in statement order that Vercel's runtime takes for the app: an assignment, function or
    `from x import` of `app` or `application`, or a class named `handler` (any case). Unlike Vercel's, this also
    looks into if/try/with blocks at the top level, but never into functions or classes."""
    blocks = (ast.If, ast.Try, ast.With) + ((ast.TryStar,) if hasattr(ast, "TryStar") else ())
    for node in body:
        names = []
        if isinstance(node, ast.Assign):
            # `app = ...` and `app, other = ...`, not `app.debug = ...`
            targets = [t for target in node.targets for t in (target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target])]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and node.value is not None and isinstance(node.target, ast.Name):
            names = [node.target.id]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names = [node.name]
        elif isinstance(node, ast.ImportFrom):
            names = [alias.asname or alias.name for alias in node.names]
        elif isinstance(node, ast.ClassDef) and node.name.lower() == "handler":
            return node.name
        elif isinstance(node, blocks):
            nested = [getattr(node, field, []) for field in ("body", "orelse", "finalbody")]
            nested += [handler.body for handler in getattr(node, "handlers", [])]
            for block in nested:
                found = first_app_name(block)
                if found:
                    return found
        for name in names:
            if name in APP_NAMES:
                return name
    return None


def scan_files(files):
    """For each file that exists: the name it defines for the app, or what is wrong with it."""
    found = []
    for relative in files:
        if not os.path.isfile(relative):
            continue
        try:
            with open(relative, "rb") as f:
                tree = ast.parse(f.read(), filename=relative)
        except (SyntaxError, ValueError) as exc:
            found.append({"file": relative, "name": "",
                          "problem": "SyntaxError: %s (line %s)" % (getattr(exc, "msg", exc), getattr(exc, "lineno", "?"))})
            continue
        name = first_app_name(tree.body)
        problem = ""
        if not name:
            problem = "defines none of `app`, `application` and `handler`"
            if any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Assign)) and
                   "handler" in [getattr(node, "name", None)] + [getattr(t, "id", None) for t in getattr(node, "targets", [])]
                   for node in tree.body):
                problem = ("defines `handler`, but not as a class: a handler is a class handler(BaseHTTPRequestHandler) "
                           "with do_GET, do_POST, ... methods")
        found.append({"file": relative, "name": name or "", "problem": problem})
    return found


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
    for framework in ("flask", "fastapi", "django"):
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


def classify(entry):
    """Import one entrypoint ({file, module, attribute}) and say what it is."""
    result = dict(entry)
    # Said before importing, so that a hanging import shows which file it was.
    print("ferry: importing %s for `%s`" % (entry["file"], entry["attribute"]), flush=True)
    try:
        module = importlib.import_module(entry["module"])
    except BaseException as exc:  # SystemExit and KeyboardInterrupt from the app are failures too
        print_traceback(exc)
        result.update(error="import_failed", exception="%s: %s" % (type(exc).__name__, exc))
        return result
    app = getattr(module, entry["attribute"], None)
    if app is None:
        result["error"] = "missing_attribute"
    elif entry["attribute"].lower() == "handler":
        if is_handler_class(app):
            result.update(kind="handler", framework="other")
        else:
            result.update(error="not_handler_class", type="class" if inspect.isclass(app) else type(app).__name__)
    elif not callable(app):
        result.update(error="not_callable", type=type(app).__name__)
    else:
        result.update(kind="asgi" if is_asgi(app) else "wsgi", framework=framework_of(app))
    return result


def inspect_entrypoints(result_path, plan_json):
    """Import the plan's entries, or the first of its first_of files that defines an app."""
    plan = json.loads(plan_json)
    sys.path.insert(0, os.getcwd())
    entries = plan.get("entries") or []
    candidates = plan.get("first_of") or []
    scanned = scan_files([c["file"] for c in candidates])
    for found in scanned:
        if found["name"]:
            entry = next(c for c in candidates if c["file"] == found["file"])
            entries = [dict(entry, attribute=found["name"])]
            break
    results = []
    for entry in entries:
        sys.argv = [entry["file"]]
        results.append(classify(entry))
    write_result(result_path, {"scanned": scanned, "results": results})


# ---- django ----------------------------------------------------------------


def django_settings(result_path):
    """Run manage.py with Django's command line stubbed out, as Vercel does, so that it sets
    DJANGO_SETTINGS_MODULE its own way; then read the settings that name the application."""
    sys.path.insert(0, os.getcwd())
    try:
        import django
        import django.core.management
    except ImportError as exc:
        write_result(result_path, {"error": "ImportError: %s" % exc})
        return

    class Stop(Exception):
        pass

    def stop(*args, **kwargs):
        raise Stop

    django.core.management.execute_from_command_line = stop
    sys.argv = ["manage.py"]
    try:
        runpy.run_path("manage.py", run_name="__main__")
    except Stop:
        pass
    except BaseException as exc:
        print_traceback(exc)
        write_result(result_path, {"error": "%s: %s" % (type(exc).__name__, exc)})
        return
    module_name = os.environ.get("DJANGO_SETTINGS_MODULE", "")
    result = {"settings_module": module_name, "version": ".".join(str(part) for part in django.VERSION[:3])}
    if module_name:
        try:
            settings = importlib.import_module(module_name)
        except BaseException as exc:
            print_traceback(exc)
            result["error"] = "%s: %s" % (type(exc).__name__, exc)
        else:
            for name in ("ASGI_APPLICATION", "WSGI_APPLICATION"):
                value = getattr(settings, name, None)
                if isinstance(value, str):
                    result[name.lower()] = value
    write_result(result_path, result)


def importable(result_path, modules):
    missing = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:
            missing.append(name)
    write_result(result_path, {"missing": missing})


def main():
    command, result_path, *args = sys.argv[1:]
    if command == "requirements":
        check_requirements(result_path, args[0])
    elif command == "scan":
        write_result(result_path, scan_files(args))
    elif command == "inspect":
        inspect_entrypoints(result_path, args[0])
    elif command == "django":
        django_settings(result_path)
    elif command == "importable":
        importable(result_path, args)
    else:
        raise SystemExit("unknown command " + command)
    sys.stdout.flush()
    sys.stderr.flush()
    # Threads the app started at import time must not keep the build waiting.
    os._exit(0)


main()

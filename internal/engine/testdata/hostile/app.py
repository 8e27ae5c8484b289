"""A hostile app for ferry's sandbox tests (internal/engine/sandbox_test.go).

Each endpoint tries what an attacker would from inside a deployed app and reports what it got, as JSON;
the test decides what must have been denied or contained. Its targets come from env vars the test sets on
the project. A plain WSGI app: it needs nothing but the standard library.
"""
import hashlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
from urllib.parse import parse_qs

# Imported once per instance, in the parent, before the workers fork: a new value means a new instance.
INSTANCE = os.urandom(8).hex()

ENV = os.environ.get
DATA_DIR = ENV("DATA_DIR", "/nonexistent")
MARKER = ENV("MARKER", "no-marker")
# Reversed, so that this app's own environ never matches what it looks for in other processes.
VICTIM_SECRET = ENV("VICTIM_SECRET_REVERSED", "")[::-1]
CANARY_TAG = ENV("CANARY_TAG_REVERSED", "")[::-1]

_listeners = []  # sockets the bind attack keeps open, so the test can try to reach them


class Denied(Exception):
    """The attack ran but did not get what it was after."""


def attempt(fn):
    try:
        return {"denied": False, "detail": str(fn())}
    except Denied as e:
        return {"denied": True, "detail": str(e)}
    except Exception as e:  # the sandbox refused: PermissionError, FileNotFoundError, ...
        return {"denied": True, "detail": "%s: %s" % (type(e).__name__, e)}


def read(path, mode="rb"):
    with open(path, mode) as f:
        return f.read()


def pids():
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def read_secret_key():
    return "read %d bytes of %s" % (len(read(os.path.join(DATA_DIR, "secret.key"))), DATA_DIR)


def read_store():
    head = read(os.path.join(DATA_DIR, "ferry.db"))[:16]
    return "read the store, header %r" % head


def list_data_dir():
    return "listed %s: %s" % (DATA_DIR, sorted(os.listdir(DATA_DIR)))


def list_deployments():
    return "listed deployments: %s" % sorted(os.listdir(os.path.join(DATA_DIR, "deployments")))


def read_other_deployment():
    return "read %d bytes of %s" % (len(read(ENV("OTHER_APP_PY"))), ENV("OTHER_APP_PY"))


def engine_socket():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(os.path.join(DATA_DIR, "engine.sock"))
    path = "/v1/projects/%s/env?decrypt=true" % ENV("OTHER_PROJECT_ID")
    answer = b""
    try:
        s.sendall(("GET %s HTTP/1.0\r\nHost: engine\r\n\r\n" % path).encode())
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
    except OSError as e:
        raise Denied("connected, but the engine would not answer: %s: %s" % (type(e).__name__, e))
    finally:
        s.close()
    if not answer:
        raise Denied("connected, but the engine closed the connection without an answer")
    status = answer.split(b"\r\n", 1)[0].decode(errors="replace")
    return "connected; GET %s: %s; other project's secret in the answer: %s" % (
        path, status, VICTIM_SECRET != "" and VICTIM_SECRET.encode() in answer)


def engine_environ():
    pid = ENV("ENGINE_PID")
    data = read("/proc/%s/environ" % pid)
    if hashlib.sha256(data).hexdigest() != ENV("ENGINE_ENVIRON_SHA256"):
        raise Denied("read %d bytes of /proc/%s/environ, but not the engine's (another process of that number)" % (len(data), pid))
    return "read the engine's environ (%d bytes, pid %s)" % (len(data), pid)


def other_project_environ():
    if not VICTIM_SECRET:
        raise Exception("the test did not set VICTIM_SECRET_REVERSED")
    me, scanned, readable = os.getpid(), 0, 0
    for pid in pids():
        if pid == me:
            continue
        scanned += 1
        try:
            data = read("/proc/%d/environ" % pid)
        except Exception:
            continue
        readable += 1
        if VICTIM_SECRET.encode() in data:
            cmdline = read("/proc/%d/cmdline" % pid).replace(b"\0", b" ").decode(errors="replace")
            return "pid %d holds the other project's secret in its environ (%s)" % (pid, cmdline[:120])
    raise Denied("%d processes visible, %d environs readable, none with the other project's secret" % (scanned, readable))


def see_other_processes():
    if not CANARY_TAG:
        raise Exception("the test did not set CANARY_TAG_REVERSED")
    visible = pids()
    for pid in visible:
        try:
            cmdline = read("/proc/%d/cmdline" % pid)
        except Exception:
            continue
        if CANARY_TAG.encode() in cmdline:
            return "%d processes visible, the test's canary among them (pid %d)" % (len(visible), pid)
    raise Denied("%d processes visible, not the test's canary" % len(visible))


def signal_engine():
    os.kill(int(ENV("ENGINE_PID")), 0)
    return "signal 0 to the engine (pid %s) went through" % ENV("ENGINE_PID")


def signal_other_process():
    os.kill(int(ENV("CANARY_PID")), 0)
    return "signal 0 to the test's canary (pid %s) went through" % ENV("CANARY_PID")


def append(path, line):
    with open(path, "a") as f:
        f.write("\n# %s\n" % line)
    return "appended to %s" % path


def write_other_deployment():
    return append(ENV("OTHER_APP_PY"), MARKER + "-app")


def write_own_deployment():
    return append(os.path.abspath(__file__), MARKER + "-app")


def replace_own_deployment():
    own = os.path.abspath(__file__)
    content = read(own) + ("\n# %s-replaced\n" % MARKER).encode()
    tmp = os.path.join(os.path.dirname(own), ".replace-%s" % MARKER)
    with open(tmp, "wb") as f:
        f.write(content)
    os.replace(tmp, own)
    return "replaced %s" % own


def write_data_dir():
    path = os.path.join(DATA_DIR, "pwned-%s-app" % MARKER)
    with open(path, "w") as f:
        f.write(MARKER)
    return "wrote %s" % path


def bind_tcp():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    _listeners.append(s)

    def answer():
        while True:
            try:
                conn, _ = s.accept()
            except OSError:
                return
            try:
                conn.sendall(("%s-bind\n" % MARKER).encode())
            finally:
                conn.close()

    threading.Thread(target=answer, daemon=True).start()
    return "listening on 127.0.0.1:%d" % s.getsockname()[1]


ATTACKS = {
    "read_secret_key": read_secret_key,
    "read_store": read_store,
    "list_data_dir": list_data_dir,
    "list_deployments": list_deployments,
    "read_other_deployment": read_other_deployment,
    "engine_socket": engine_socket,
    "engine_environ": engine_environ,
    "other_project_environ": other_project_environ,
    "see_other_processes": see_other_processes,
    "signal_engine": signal_engine,
    "signal_other_process": signal_other_process,
    "write_other_deployment": write_other_deployment,
    "write_own_deployment": write_own_deployment,
    "replace_own_deployment": replace_own_deployment,
    "write_data_dir": write_data_dir,
    "bind_tcp": bind_tcp,
}


def attacks(query):
    report = {name: attempt(fn) for name, fn in ATTACKS.items()}
    if _listeners:
        report["bind_tcp"]["port"] = _listeners[-1].getsockname()[1]
    return report


def alloc(query):
    mb = int(query.get("mb", "0"))
    buf = b"\x01" * (mb << 20)  # written, not just reserved
    return {"allocated_mb": len(buf) >> 20}


def child_sleeps():
    try:
        time.sleep(60)
    finally:
        os._exit(0)


def fork(query):
    n, children, error = int(query.get("n", "0")), [], ""
    for _ in range(n):
        try:
            pid = os.fork()
        except OSError as e:
            error = "%s: %s" % (type(e).__name__, e)
            break
        if pid == 0:
            child_sleeps()
        children.append(pid)
    for pid in children:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return {"started": len(children), "error": error}


def files(query):
    n, fds, error = int(query.get("n", "0")), [], ""
    try:
        for _ in range(n):
            fds.append(os.open(os.path.abspath(__file__), os.O_RDONLY))
    except OSError as e:
        error = "%s: %s" % (type(e).__name__, e)
    finally:
        for fd in fds:
            os.close(fd)
    return {"opened": len(fds), "error": error}


def spin(query):
    """Starts a child spinning per core (threads would share the GIL) for `seconds`, and returns at once;
    with wait=1, once they have ended, with the CPU time they got."""
    seconds = float(query.get("seconds", "1"))
    n = int(query.get("procs", str(os.cpu_count() or 1)))
    deadline = time.monotonic() + seconds
    children = []
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            try:
                while time.monotonic() < deadline:
                    pass
            finally:
                os._exit(0)
        children.append(pid)

    def reap():
        used = 0.0
        for pid in children:
            _, _, usage = os.wait4(pid, 0)
            used += usage.ru_utime + usage.ru_stime
        return used

    if query.get("wait") == "1":
        return {"spinning": len(children), "seconds": seconds, "cpu_seconds": reap()}
    threading.Thread(target=reap, daemon=True).start()
    return {"spinning": len(children), "seconds": seconds}


def orphan(query):
    """Leaves `sleep 1000 <tag>` running in a session of its own, detached from this app."""
    tag = ENV("ORPHAN_SLEEP_TAG", "0.000000001")
    p = subprocess.Popen(["setsid", "-f", "sleep", "1000", tag], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True)
    return {"setsid_exit": p.wait()}


def instance(query):
    return {"instance": INSTANCE, "pid": os.getpid(), "uid": os.getuid()}


def ping(query):
    return {"pong": True}


ROUTES = {"/attacks": attacks, "/alloc": alloc, "/fork": fork, "/files": files, "/spin": spin,
          "/orphan": orphan, "/instance": instance, "/ping": ping}


def app(environ, start_response):
    handler = ROUTES.get(environ.get("PATH_INFO", ""))
    if handler is None:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no such attack\n"]
    query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    body = json.dumps(handler(query)).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]

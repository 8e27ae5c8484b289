"""ferry runtime bootstrap: serves one deployment's app to the ferry engine: a WSGI or ASGI application, or a
BaseHTTPRequestHandler class (Vercel's `class handler(BaseHTTPRequestHandler)`).

The engine (internal/engine/workers) embeds this file and starts it as

    python bootstrap.py [--park] KIND ENTRYPOINT THREADS SOCKET_PATH...    (KIND: wsgi, asgi or handler)

in the app's directory, with fd 3 a unix socket back to the engine.

Processes. This parent runs no code of the app's: it listens on one unix socket per worker and forks the
workers, each of which imports the app (as gunicorn's and uvicorn's workers do, and a fork of a small
process is cheap where a fork of one that imported a framework pays for every page it then touches). It
starts with the first worker; once that serves, the parent writes "ready\\n" on fd 3. The engine then
scales the workers with the requests it has in flight ("scale N\\n": the workers of the first N sockets run;
see Supervisor), and the parent tells it which serve and which have stopped. It forks a new worker when one
dies and kills its whole process group when fd 3 reaches EOF (the engine is gone); workers exit when the
parent dies. SIGTERM stops everything gracefully: workers
finish the requests they hold (and an ASGI app's lifespan shutdown runs), then exit. A WSGI or handler
worker serves with THREADS threads, each owning one connection at a time; an ASGI worker runs one asyncio
loop (uvloop when importable). The engine opens at most THREADS connections to a worker's socket and has
one request in flight per connection.

Parked starts (zygotes). With --park the engine starts this process ahead of any request, in the sandbox
the instance will have. Each worker imports the app's dependencies, found by reading the app's modules:
what they import from outside the app's directory before any of the app's own code would run. Once all
have, the parent writes "parked\\n" on fd 3, and on "go\\n" there the workers go on as above. A
cold start is then the import of the app alone: no interpreter to start, no framework to import, no fork.

Framing, both directions, integers big-endian. Every frame is an 8-byte header and a payload:

    u8 type | u8 flags | u16 count | u32 length | `length` bytes of payload

  engine -> worker, one request:   HEAD, then BODY* END unless HEAD has flag NO_BODY
  worker -> engine, one response:  RESPONSE, BODY*, then END (or ABORT once the app fails mid-response)

  HEAD 'H'      `count` NUL-separated latin-1 strings, a NUL, then the path (which may contain NULs).
                WSGI: environ key/value pairs (REQUEST_METHOD, QUERY_STRING, CONTENT_TYPE, HTTP_*, ...);
                      the path is PATH_INFO (percent-decoded).
                ASGI: method, scheme, query string, raw path, http version, client host, client port,
                      server host, server port, then header name/value pairs with lower-case names;
                      the path is the percent-decoded path.
                handler: client host, client port, the declared Content-Length ("" for none); instead of
                      the path, the request head as http.server reads it: the request line (method, path
                      and query as sent, HTTP/1.0 or HTTP/1.1) and header lines, each ending in CRLF,
                      without Content-Length and hop-by-hop headers. The worker adds Content-Length (the
                      length of the body it received), Connection: close and the empty line.
  BODY 'B'      the next chunk of the request or response body.
  END 'E'       empty: the request body, or the response, is complete.
  RESPONSE 'R'  `count` headers; payload: 3-digit status, then header name/value strings, NUL-separated.
  ABORT 'A'     empty: the response cannot be completed; the engine drops the client connection.

WebSockets (ASGI only). A HEAD with flag WEBSOCKET is an upgrade; its connection then carries the socket:

  worker -> engine: ACCEPT (websocket.accept), or CLOSE before ACCEPT (the client gets 403), or a RESPONSE:
                    the app's HTTP answer instead of the socket (websocket.http.response), or a 500 when
                    it failed before accepting
  both ways:        MESSAGE, one whole message: UTF-8 text with flag TEXT, else bytes
  both ways:        CLOSE: u16 close code, then the UTF-8 reason

  ACCEPT 'K'    `count` headers; payload: the subprotocol ("" for none), then header name/value strings,
                NUL-separated.

The engine sends CLOSE once the client's side ended; the worker sends CLOSE once the app closed or returned.

NUL-separated strings let a worker split a head with one str.split and fill a WSGI environ with one
dict.update: Python's per-request work is what bounds throughput.
"""

import collections
import collections.abc
import contextvars
import functools
import importlib
import io
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
import traceback

FRAME = struct.Struct(">BBHI")
HEAD, BODY, END, RESPONSE, ABORT = b"HBERA"
ACCEPT, MESSAGE, CLOSE = b"KMC"  # WebSockets
NO_BODY = 1
WEBSOCKET = 2  # HEAD flag
TEXT = 1  # MESSAGE flag
CLOSE_CODE = struct.Struct(">H")
END_FRAME = FRAME.pack(END, 0, 0, 0)
ABORT_FRAME = FRAME.pack(ABORT, 0, 0, 0)
READ_BUFFER = 64 * 1024
COALESCE_LIMIT = 64 * 1024  # body chunks up to this size are copied into one write with their frame header
MAX_FRAME = 1 << 30

_error_body = b"Internal Server Error\n"
_error_head = b"500\0Content-Type\0text/plain; charset=utf-8\0Content-Length\0%d" % len(_error_body)
ERROR_RESPONSE = b"".join((
    FRAME.pack(RESPONSE, 0, 2, len(_error_head)), _error_head,
    FRAME.pack(BODY, 0, 0, len(_error_body)), _error_body, END_FRAME,
))


class EngineGone(Exception):
    """The engine closed the connection: stop serving it."""


class ProtocolError(Exception):
    """The engine sent something this bootstrap does not understand."""


def log(message):
    print("ferry: " + message, file=sys.stderr, flush=True)


def send_body(sock, prefix, data, end):
    """Sends prefix (a RESPONSE frame or b""), data as BODY frames, then END if end."""
    size = len(data)
    try:
        if size <= COALESCE_LIMIT:
            parts = [prefix]
            if size:
                parts += (FRAME.pack(BODY, 0, 0, size), data)
            if end:
                parts.append(END_FRAME)
            sock.sendall(b"".join(parts))
            return
        view = memoryview(data)
        for start in range(0, size, MAX_FRAME):
            piece = view[start:start + MAX_FRAME]
            sock.sendall(prefix + FRAME.pack(BODY, 0, 0, len(piece)))
            prefix = b""
            sock.sendall(piece)
        if end:
            sock.sendall(END_FRAME)
    except OSError as exc:
        raise EngineGone() from exc


def send_raw(sock, data):
    try:
        sock.sendall(data)
    except OSError as exc:
        raise EngineGone() from exc


def wait_readable(fds, timeout=None):
    """Waits until some of fds are readable (or hung up) and returns those. poll, unlike select, takes
    any fd number, however many files the app opened."""
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN)
    return {fd for fd, _ in poller.poll(None if timeout is None else timeout * 1000)}


def print_app_exception(exc):
    """Prints exc's traceback from the app's first frame on: the bootstrap and importlib say nothing."""
    tb = exc.__traceback__
    while tb is not None and (tb.tb_frame.f_code.co_filename == __file__
                              or "importlib" in tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb or exc.__traceback__)


def load_app(entrypoint):
    module_name, _, attribute = entrypoint.partition(":")
    target = importlib.import_module(module_name)
    for name in (attribute or "app").split("."):
        try:
            target = getattr(target, name)
        except AttributeError:
            raise AttributeError("module %r has no attribute %r (entrypoint %r)"
                                 % (module_name, attribute, entrypoint)) from None
    if not callable(target):
        raise TypeError("entrypoint %r is not callable" % entrypoint)
    return target


# ---------------------------------------------------------------------------------------------------
# WSGI


class RequestBody:
    """wsgi.input: the request's BODY frames, read from the connection as the app asks for them."""

    __slots__ = ("_rfile", "_left", "_done")

    def __init__(self, rfile):
        self._rfile = rfile
        self._left = 0  # unread bytes of the current BODY frame
        self._done = False

    def _next_frame(self):
        """Moves to the next BODY frame; False at END."""
        header = self._rfile.read(8)
        if len(header) != 8:
            raise EngineGone()
        kind, _, _, length = FRAME.unpack(header)
        if kind == END:
            self._done = True
            return False
        if kind != BODY:
            raise ProtocolError("frame %r inside a request body" % chr(kind))
        self._left = length
        return True

    def _take(self, size):
        data = self._rfile.read(size)
        if len(data) != size:
            raise EngineGone()
        self._left -= size
        return data

    def read(self, size=-1):
        if size is None or size < 0:
            size = sys.maxsize
        parts = []
        while size > 0 and not self._done:
            if self._left == 0:
                self._next_frame()
                continue
            data = self._take(min(size, self._left))
            size -= len(data)
            parts.append(data)
        return b"".join(parts)

    def readline(self, size=-1):
        if size is None or size < 0:
            size = sys.maxsize
        parts = []
        while size > 0 and not self._done:
            if self._left == 0:
                self._next_frame()
                continue
            available = self._rfile.peek(1)[:min(size, self._left)]
            if not available:
                raise EngineGone()
            newline = available.find(b"\n")
            data = self._take(len(available) if newline < 0 else newline + 1)
            size -= len(data)
            parts.append(data)
            if newline >= 0:
                break
        return b"".join(parts)

    def readlines(self, hint=-1):
        lines, total = [], 0
        for line in self:
            lines.append(line)
            total += len(line)
            if 0 < hint <= total:
                break
        return lines

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def drain(self):
        """Skips what the app left unread, so the connection is ready for the next request."""
        while not self._done:
            if self._left:
                self._take(self._left)
            else:
                self._next_frame()


class EmptyBody:
    """wsgi.input of a request without a body."""

    def read(self, size=-1):
        return b""

    def readline(self, size=-1):
        return b""

    def readlines(self, hint=-1):
        return []

    def __iter__(self):
        return iter(())


EMPTY_BODY = EmptyBody()


class FileWrapper:
    """wsgi.file_wrapper: iterates a file in blocks (PEP 3333's optional platform file handling)."""

    def __init__(self, filelike, block_size=64 * 1024):
        self.filelike = filelike
        self.block_size = block_size
        if hasattr(filelike, "close"):
            self.close = filelike.close

    def __iter__(self):
        return self

    def __next__(self):
        data = self.filelike.read(self.block_size)
        if data:
            return data
        raise StopIteration


class WSGIResponse:
    """start_response and the response frames of one request."""

    __slots__ = ("sock", "status", "headers", "head_sent", "complete", "remaining")

    def __init__(self, sock):
        self.sock = sock
        self.status = None
        self.headers = None
        self.head_sent = False
        self.complete = False
        self.remaining = None  # bytes the declared Content-Length still expects

    def start_response(self, status, headers, exc_info=None):
        if exc_info is not None:
            try:
                if self.head_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError("start_response() called twice without exc_info")
        self.status = status
        self.headers = headers
        return self.write

    def _head(self):
        status = self.status
        if status is None:
            raise AssertionError("the app sent a body before calling start_response()")
        fields = [status[:3]]
        for name, value in self.headers:
            if name.lower() == "content-length":
                self.remaining = int(value)
            fields.append(name)
            fields.append(value)
        if not fields[0].isdigit() or status[3:4] not in ("", " "):
            raise ValueError("invalid status %r" % status)
        payload = "\0".join(fields).encode("latin-1")
        return FRAME.pack(RESPONSE, 0, len(self.headers), len(payload)) + payload

    def write(self, data, last=False):
        """Sends a body chunk; last says the app has nothing more, so END rides in the same write."""
        if self.complete:
            return  # past the declared Content-Length
        if type(data) is not bytes:
            data = bytes(data)  # bytes-like is fine; str raises TypeError, as PEP 3333 wants
        prefix = b""
        if not self.head_sent:
            prefix = self._head()
            self.head_sent = True
        remaining = self.remaining
        if remaining is not None and len(data) >= remaining:
            data = data[:remaining]
            last = True
        elif remaining is not None:
            self.remaining = remaining - len(data)
        self.complete = last
        send_body(self.sock, prefix, data, last)

    def finish(self):
        if not self.head_sent:
            self.write(b"", last=True)
        elif not self.complete:
            self.complete = True
            send_raw(self.sock, END_FRAME)

    def fail(self):
        if not self.head_sent:
            self.head_sent = self.complete = True
            send_raw(self.sock, ERROR_RESPONSE)
        elif not self.complete:
            self.complete = True
            send_raw(self.sock, ABORT_FRAME)


def handle_wsgi_request(app, base_environ, sock, rfile, flags, count, payload):
    fields = payload.decode("latin-1").split("\0", count)
    environ = base_environ.copy()
    environ["PATH_INFO"] = fields.pop()
    pairs = iter(fields)
    environ.update(zip(pairs, pairs))
    body = EMPTY_BODY if flags & NO_BODY else RequestBody(rfile)
    environ["wsgi.input"] = body
    response = WSGIResponse(sock)
    try:
        result = app(environ, response.start_response)
        try:
            if type(result) is list and len(result) == 1:
                response.write(result[0], last=True)
            else:
                for chunk in result:
                    if chunk:
                        response.write(chunk)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        response.finish()
    except EngineGone:
        raise
    except Exception:
        traceback.print_exc()
        response.fail()
    if body is not EMPTY_BODY:
        body.drain()


def serve_connection(sock, handle_request, busy, slot):
    """Serves one engine connection's requests with handle_request(sock, rfile, flags, count, payload)."""
    rfile = sock.makefile("rb", buffering=READ_BUFFER)
    read = rfile.read
    unpack = FRAME.unpack
    try:
        while True:
            header = read(8)
            if len(header) != 8:
                return
            kind, flags, count, length = unpack(header)
            if kind != HEAD:
                raise ProtocolError("expected a request head, got frame %r" % chr(kind))
            payload = read(length)
            if len(payload) != length:
                return
            busy[slot] = True
            handle_request(sock, rfile, flags, count, payload)
            busy[slot] = False
    except (EngineGone, ConnectionError):
        pass
    finally:
        busy[slot] = False
        rfile.close()


def run_wsgi_worker(app, listener, threads, workers, ready, parent_pipe):
    base_environ = {
        "SCRIPT_NAME": "",
        "SERVER_SOFTWARE": "ferry",
        "wsgi.version": (1, 0),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": threads > 1,
        "wsgi.multiprocess": workers > 1,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
        "wsgi.file_wrapper": FileWrapper,
    }
    handle_request = functools.partial(handle_wsgi_request, app, base_environ)
    run_threaded_worker(handle_request, listener, threads, ready, parent_pipe)


def run_threaded_worker(handle_request, listener, threads, ready, parent_pipe):
    busy = [False] * threads

    def accept_loop(slot):
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                time.sleep(0.1)  # e.g. out of file descriptors: retry rather than spin
                continue
            try:
                serve_connection(sock, handle_request, busy, slot)
            except Exception:
                traceback.print_exc()
            finally:
                sock.close()

    # The main thread only waits: for SIGTERM (signals reach it through the wakeup fd) or the parent's death.
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGTERM, lambda *_: None)
    signal.signal(signal.SIGINT, lambda *_: None)
    # Ready before the threads start, each a switch to a new thread away: connections wait in the backlog.
    ready()
    for slot in range(threads):
        threading.Thread(target=accept_loop, args=(slot,), name="ferry-wsgi-%d" % slot, daemon=True).start()
    if parent_pipe in wait_readable([wake_r, parent_pipe]):
        os._exit(1)
    # Stopping: the engine sends nothing new; let the requests in progress finish.
    while any(busy):
        time.sleep(0.01)


# ---------------------------------------------------------------------------------------------------
# BaseHTTPRequestHandler classes


class InMemoryConnection:
    """The socket a handler instance is given: reads come from the request in memory and writes are
    collected, so socketserver's setup() and finish(), and any the handler overrides, run unchanged."""

    def __init__(self, request):
        self.request = request
        self.written = []

    def makefile(self, mode, buffering=-1):
        if "r" in mode:
            return io.BytesIO(self.request)
        return CollectedWrites(self)  # a handler with wbufsize != 0

    def sendall(self, data):
        self.written.append(bytes(data))

    def settimeout(self, timeout):
        pass

    def setsockopt(self, *args):
        pass


class CollectedWrites(io.RawIOBase):
    """wfile of a handler that asks for a buffered one (wbufsize != 0)."""

    def __init__(self, connection):
        self.connection = connection

    def writable(self):
        return True

    def write(self, data):
        self.connection.sendall(data)
        return memoryview(data).nbytes


class HandlerServer:
    """The `server` a handler instance is given: what socketserver's servers offer, without a socket."""

    def __init__(self, handler_class, server_address):
        self.RequestHandlerClass = handler_class
        self.server_address = server_address


class InvalidResponse(Exception):
    """A handler wrote something that is not an HTTP response."""


def handler_response_frames(output):
    """The RESPONSE and BODY frames for the raw HTTP response a handler wrote."""
    while True:
        head_end = output.find(b"\r\n\r\n")
        if head_end < 0:
            raise InvalidResponse("no empty line after the status line and headers" if output else "no output at all")
        lines = output[:head_end].split(b"\r\n")
        version, _, rest = lines[0].partition(b" ")
        status = rest[:3]
        if not version.startswith(b"HTTP/") or not status.isdigit() or status < b"100" or rest[3:4] not in (b"", b" "):
            raise InvalidResponse("the status line %r" % lines[0][:100])
        output = output[head_end + 4:]
        if status >= b"200":
            break  # interim responses (100 Continue, 103 Early Hints) are not passed on
    fields = [status]
    length = None
    chunked = False
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon:
            raise InvalidResponse("the header line %r" % line[:100])
        value = value.strip()
        lowered = name.lower()
        if lowered == b"content-length":
            if not value.isdigit():
                raise InvalidResponse("Content-Length %r" % value[:100])
            length = int(value)
        elif lowered == b"transfer-encoding":
            chunked = value.lower() == b"chunked"
            continue  # the engine frames the body for its client itself
        fields += (name, value)
    # Without a length, the body ends where the handler stopped writing, as when http.server closes.
    body = decode_chunked(output) if chunked else output[:length]
    payload = b"\0".join(fields)
    return FRAME.pack(RESPONSE, 0, len(fields) // 2, len(payload)) + payload, body


def decode_chunked(data):
    """The body of a chunked response; one cut short ends where the handler stopped writing."""
    parts = []
    position = 0
    while True:
        line_end = data.find(b"\r\n", position)
        if line_end < 0:
            break
        size = data[position:line_end].split(b";", 1)[0]
        if not size or size.strip(b"0123456789abcdefABCDEF"):
            raise InvalidResponse("the chunk size line %r" % data[position:line_end][:100])
        size = int(size, 16)
        if size == 0:
            break
        start = line_end + 2
        parts.append(data[start:start + size])
        position = start + size + 2
    return b"".join(parts)


def handle_handler_request(handler_class, server, sock, rfile, flags, count, payload):
    client_host, client_port, declared_length, head = payload.split(b"\0", 3)
    has_body = not flags & NO_BODY
    body = RequestBody(rfile).read() if has_body else b""
    if has_body or declared_length:
        head += b"Content-Length: %d\r\n" % len(body)
    # Connection: close makes http.server's handle() stop after one request, even where the handler
    # leaves the body unread and speaks HTTP/1.1.
    connection = InMemoryConnection(b"".join((head, b"Connection: close\r\n\r\n", body)))
    try:
        handler_class(connection, (client_host.decode("latin-1"), int(client_port or 0)), server)
    except Exception:
        traceback.print_exc()
        send_raw(sock, ERROR_RESPONSE)
        return
    try:
        response_head, response_body = handler_response_frames(b"".join(connection.written))
    except InvalidResponse as exc:
        log("the handler class did not write a valid HTTP response (%s): answering 500" % exc)
        send_raw(sock, ERROR_RESPONSE)
        return
    send_body(sock, response_head, response_body, True)


def run_handler_worker(handler_class, listener, threads, ready, parent_pipe):
    server = HandlerServer(handler_class, listener.getsockname())
    handle_request = functools.partial(handle_handler_request, handler_class, server)
    run_threaded_worker(handle_request, listener, threads, ready, parent_pipe)


# ---------------------------------------------------------------------------------------------------
# ASGI


class LifespanStartupFailed(Exception):
    pass


class Lifespan:
    """Runs the app's ASGI lifespan protocol, if it speaks it."""

    def __init__(self, app):
        self.app = app
        self.state = {}
        self.task = None

    async def startup(self):
        import asyncio
        loop = asyncio.get_running_loop()
        self.messages = asyncio.Queue()
        self.started = loop.create_future()
        self.stopped = loop.create_future()
        self.task = loop.create_task(self._run())
        await self.messages.put({"type": "lifespan.startup"})
        await self.started

    async def shutdown(self):
        if self.task is None or self.task.done():
            return
        await self.messages.put({"type": "lifespan.shutdown"})
        await self.stopped

    async def _run(self):
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        try:
            await self.app(scope, self.messages.get, self._send)
        except Exception as exc:
            if not self.started.done():
                log("the app does not support ASGI lifespan (%s: %s); serving without it"
                    % (type(exc).__name__, exc))
            else:
                traceback.print_exc()
        finally:
            for future in (self.started, self.stopped):
                if not future.done():
                    future.set_result(None)

    async def _send(self, message):
        kind = message["type"]
        if kind == "lifespan.startup.complete":
            self.started.set_result(None)
        elif kind == "lifespan.startup.failed":
            self.started.set_exception(LifespanStartupFailed(message.get("message", "")))
        elif kind in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
            if kind.endswith("failed"):
                log("ASGI lifespan shutdown failed: %s" % message.get("message", ""))
            self.stopped.set_result(None)


class Resumed(collections.abc.Coroutine):
    """The rest of a coroutine that has run up to its first suspension outside any task: the first send()
    hands the task what the coroutine waits for, later ones resume it."""

    __slots__ = ("coro", "pending")

    def __init__(self, coro, pending):
        self.coro = coro
        self.pending = pending

    def send(self, value):
        pending = self.pending
        if pending is not None:
            self.pending = None
            return pending
        return self.coro.send(value)

    def throw(self, *args):
        self.pending = None
        return self.coro.throw(*args)

    def close(self):
        self.coro.close()

    def __await__(self):
        return self


def start_eagerly(loop, coro):
    """Runs coro now, in a context of its own as a task would, and makes a task of the rest only if it has to
    wait: most requests never do, and skipping the task and its trip through the loop is a large part of what
    a request costs."""
    context = contextvars.copy_context()
    try:
        pending = context.run(coro.send, None)
    except StopIteration:
        return
    # A bare yield (asyncio.sleep(0)) gives None, which Resumed cannot hand on: the task resumes it directly.
    rest = coro if pending is None else Resumed(coro, pending)
    if sys.version_info >= (3, 11):
        loop.create_task(rest, context=context)
    else:
        context.run(loop.create_task, rest)


def response_head(status, headers):
    """The RESPONSE frame of an ASGI response's status and headers."""
    fields = [b"%d" % status]
    for name, value in headers:
        fields.append(name if type(name) is bytes else name.encode("latin-1"))
        fields.append(value if type(value) is bytes else value.encode("latin-1"))
    head = b"\0".join(fields)
    return FRAME.pack(RESPONSE, 0, len(fields) // 2, len(head)) + head


class ASGIExchange:
    """receive and send of one ASGI request on an engine connection."""

    __slots__ = ("connection", "has_body", "body_done", "chunks", "queued", "request_complete", "status",
                 "headers", "head_sent", "complete", "waiter")

    def __init__(self, connection, has_body):
        self.connection = connection
        self.has_body = has_body
        self.body_done = not has_body  # END of the request body arrived
        self.chunks = collections.deque()
        self.queued = 0  # bytes in chunks
        self.request_complete = False  # the app received the whole body
        self.status = None
        self.headers = None
        self.head_sent = False
        self.complete = False  # the response is complete
        self.waiter = None  # future a receive() waits on for body data, the response's end or a disconnect

    def wake(self):
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def body_received(self, data):
        if data:
            self.chunks.append(data)
            self.queued += len(data)
        self.wake()

    def body_ended(self):
        self.body_done = True
        self.wake()

    async def _wait(self):
        self.waiter = self.connection.loop.create_future()
        await self.waiter

    async def receive(self):
        connection = self.connection
        while not self.request_complete:
            if self.chunks:
                data = self.chunks.popleft()
                self.queued -= len(data)
                connection.body_consumed(self)
                more = bool(self.chunks) or not self.body_done
                self.request_complete = not more
                return {"type": "http.request", "body": data, "more_body": more}
            if self.body_done:
                self.request_complete = True
                return {"type": "http.request", "body": b"", "more_body": False}
            if connection.gone:
                return {"type": "http.disconnect"}
            await self._wait()
        while not self.complete and not connection.gone:
            await self._wait()
        return {"type": "http.disconnect"}

    async def send(self, message):
        kind = message["type"]
        if kind == "http.response.start":
            if self.status is not None:
                raise RuntimeError("http.response.start sent twice")
            self.status = message["status"]
            self.headers = message.get("headers", ())
        elif kind == "http.response.body":
            if self.status is None:
                raise RuntimeError("http.response.body sent before http.response.start")
            if self.complete:
                raise RuntimeError("http.response.body sent after the response completed")
            more = message.get("more_body", False)
            data = self._frames(message.get("body", b""), not more)
            connection = self.connection
            if connection.gone:
                raise ConnectionResetError("the engine closed the connection")
            connection.transport.write(data)
            if connection.paused:
                await connection.drained()

    def _frames(self, data, last):
        """The frames that send data, preceded by the response head the first time, and END if last."""
        if self.head_sent:
            parts = []
        else:
            self.head_sent = True
            parts = [response_head(self.status, self.headers)]
        if data:
            parts += (FRAME.pack(BODY, 0, 0, len(data)), data)
        if last:
            parts.append(END_FRAME)
            self.complete = True
            self.wake()
        return b"".join(parts)

    def fail(self):
        """Ends a response the app could not complete: a 500 if nothing was sent, else ABORT."""
        if self.complete:
            return
        data = ABORT_FRAME if self.head_sent else ERROR_RESPONSE
        self.head_sent = self.complete = True
        self.wake()
        if not self.connection.gone:
            self.connection.transport.write(data)

    async def serve(self, app, scope, worker):
        try:
            await app(scope, self.receive, self.send)
            if not self.complete:
                if self.status is None:
                    raise RuntimeError("the app returned without sending a response")
                self.connection.transport.write(self._frames(b"", True))
        except Exception:
            if not self.connection.gone:
                traceback.print_exc()
                self.fail()
        finally:
            worker.active -= 1
            self.connection.exchange_done(self)


class ClientDisconnected(OSError):
    """websocket.send on a socket whose client has gone (as uvicorn raises)."""


class WebSocketExchange:
    """receive and send of one ASGI WebSocket on an engine connection, from the upgrade until both sides
    have closed."""

    __slots__ = ("connection", "chunks", "queued", "connect_sent", "accepted", "closed", "disconnect",
                 "complete", "body_done", "waiter", "denial")

    def __init__(self, connection):
        self.connection = connection
        self.chunks = collections.deque()  # messages from the client: str or bytes
        self.queued = 0  # bytes in chunks
        self.connect_sent = False  # the app has had websocket.connect
        self.accepted = False
        self.closed = False  # CLOSE (or a refusal) went to the engine
        self.disconnect = None  # the engine's CLOSE: the websocket.disconnect message
        self.complete = False  # the app returned
        self.body_done = False  # the engine's CLOSE arrived: it sends nothing more
        self.waiter = None
        # The status and headers of an HTTP answer in place of the socket (websocket.http.response), until
        # its head is sent; then True.
        self.denial = None

    wake = ASGIExchange.wake
    _wait = ASGIExchange._wait

    def frame(self, kind, flags, payload):
        if kind == MESSAGE:
            self.chunks.append(payload.decode("utf-8") if flags & TEXT else payload)
            self.queued += len(payload)
        elif kind == CLOSE:
            code, = CLOSE_CODE.unpack_from(payload)
            self.disconnect = {"type": "websocket.disconnect", "code": code,
                               "reason": payload[2:].decode("utf-8", "replace")}
            self.body_done = True
        else:
            raise ProtocolError("frame %r on a WebSocket" % chr(kind))
        self.wake()

    async def receive(self):
        if not self.connect_sent:
            self.connect_sent = True
            return {"type": "websocket.connect"}
        connection = self.connection
        while True:
            if self.chunks:
                data = self.chunks.popleft()
                self.queued -= len(data)
                connection.body_consumed(self)
                if type(data) is str:
                    return {"type": "websocket.receive", "text": data}
                return {"type": "websocket.receive", "bytes": data}
            if self.disconnect is not None:
                return self.disconnect
            if connection.gone:
                return {"type": "websocket.disconnect", "code": 1006, "reason": ""}
            await self._wait()

    async def send(self, message):
        kind = message["type"]
        connection = self.connection
        if self.disconnect is not None or connection.gone:
            if kind == "websocket.close":
                return  # closed already
            raise ClientDisconnected("the WebSocket was closed")
        if self.closed:
            raise RuntimeError("%s sent after websocket.close" % kind)
        if kind == "websocket.send":
            if not self.accepted:
                raise RuntimeError("websocket.send before websocket.accept")
            text = message.get("text")
            if text is not None:
                data, flags = text.encode("utf-8"), TEXT
            else:
                data, flags = message.get("bytes"), 0
                if data is None:
                    raise ValueError("websocket.send without text or bytes")
            header = FRAME.pack(MESSAGE, flags, 0, len(data))
            if len(data) <= COALESCE_LIMIT:
                connection.transport.write(header + data)  # one write, one syscall
            else:
                connection.transport.write(header)
                connection.transport.write(data)
            if connection.paused:
                await connection.drained()
        elif kind == "websocket.accept":
            if self.accepted:
                raise RuntimeError("websocket.accept sent twice")
            self.accepted = True
            fields = [(message.get("subprotocol") or "").encode("latin-1")]
            for name, value in message.get("headers", ()):
                fields.append(name if type(name) is bytes else name.encode("latin-1"))
                fields.append(value if type(value) is bytes else value.encode("latin-1"))
            payload = b"\0".join(fields)
            connection.transport.write(FRAME.pack(ACCEPT, 0, len(fields) // 2, len(payload)) + payload)
        elif kind == "websocket.close":
            self.close(message.get("code") or 1000, message.get("reason") or "")
        elif kind == "websocket.http.response.start":
            # The Denial Response extension: an HTTP answer to the upgrade instead of a socket.
            if self.accepted or self.denial is not None:
                raise RuntimeError("websocket.http.response.start after websocket.accept, or sent twice")
            self.denial = (message["status"], message.get("headers", ()))
        elif kind == "websocket.http.response.body":
            if self.denial is None:
                raise RuntimeError("websocket.http.response.body before websocket.http.response.start")
            parts = []
            if self.denial is not True:
                parts.append(response_head(*self.denial))
                self.denial = True
            data = message.get("body", b"")
            if data:
                parts += (FRAME.pack(BODY, 0, 0, len(data)), data)
            if not message.get("more_body", False):
                parts.append(END_FRAME)
                self.closed = True  # the upgrade is answered: nothing more goes to the engine
            connection.transport.write(b"".join(parts))
            if connection.paused:
                await connection.drained()
        else:
            raise ValueError("unexpected ASGI message %r on a WebSocket" % kind)

    def close(self, code, reason):
        """Sends CLOSE, once: before accept the engine refuses the upgrade with 403."""
        if self.closed:
            return
        self.closed = True
        payload = CLOSE_CODE.pack(code) + reason.encode("utf-8")[:123]
        if not self.connection.gone:
            self.connection.transport.write(FRAME.pack(CLOSE, 0, 0, len(payload)) + payload)

    async def serve(self, app, scope, worker):
        try:
            await app(scope, self.receive, self.send)
            if self.denial is not None and not self.closed:
                raise RuntimeError("the app returned before the end of its websocket.http.response body")
            if not self.accepted and not self.closed:
                raise RuntimeError("the app returned without accepting or closing the WebSocket")
            self.close(1000, "")
        except Exception:
            if not self.connection.gone:
                traceback.print_exc()
            if self.denial is True and not self.closed:
                self.closed = True
                if not self.connection.gone:
                    self.connection.transport.write(ABORT_FRAME)  # an HTTP answer cut short
            elif self.accepted or self.closed:
                self.close(1011, "")
            elif not self.connection.gone:
                self.closed = True
                self.connection.transport.write(ERROR_RESPONSE)
        finally:
            worker.active -= 1
            self.complete = True
            self.connection.exchange_done(self)


BODY_QUEUE_LIMIT = 256 * 1024  # request body bytes a worker holds for an app before it stops reading


class ASGIConnection:
    """One engine connection: its frames are parsed as they arrive and each request runs as soon as its head
    is complete, with no stream objects or task in between."""

    def __init__(self, worker, loop):
        self.worker = worker
        self.loop = loop
        self.transport = None
        self.buffer = bytearray()  # an incomplete frame
        self.needed = 8  # bytes buffer must hold before it is worth parsing
        self.exchange = None  # the request in progress, until both its body and its response are complete
        self.gone = False
        self.paused = False  # writing paused by the transport
        self.drain_waiter = None
        self.reading_paused = False

    def connection_made(self, transport):
        self.transport = transport

    def eof_received(self):
        return False  # close the connection

    def connection_lost(self, exc):
        self.gone = True
        exchange = self.exchange
        if exchange is not None:
            exchange.wake()
        self.resume_writing()

    def pause_writing(self):
        self.paused = True

    def resume_writing(self):
        self.paused = False
        waiter = self.drain_waiter
        if waiter is not None:
            self.drain_waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def drained(self):
        if self.gone:
            raise ConnectionResetError("the engine closed the connection")
        self.drain_waiter = self.loop.create_future()
        await self.drain_waiter

    def data_received(self, data):
        buffer = self.buffer
        if buffer:
            buffer += data
            if len(buffer) < self.needed:
                return
            data = bytes(buffer)
            buffer.clear()
        size = len(data)
        position = 0
        unpack_from = FRAME.unpack_from
        try:
            while size - position >= 8:
                kind, flags, count, length = unpack_from(data, position)
                end = position + 8 + length
                if end > size:
                    break
                self.frame(kind, flags, count, data[position + 8:end])
                position = end
        except Exception:
            traceback.print_exc()
            self.transport.abort()
            return
        if position < size:
            buffer += memoryview(data)[position:]
            self.needed = 8 if len(buffer) < 8 else 8 + FRAME.unpack_from(buffer)[3]

    def frame(self, kind, flags, count, payload):
        exchange = self.exchange
        if kind == HEAD:
            if exchange is not None:
                raise ProtocolError("a request head before the previous request completed")
            if flags & WEBSOCKET:
                exchange = self.exchange = WebSocketExchange(self)
            else:
                exchange = self.exchange = ASGIExchange(self, not flags & NO_BODY)
            self.worker.start(exchange, flags, count, payload)
        elif exchange is None or exchange.body_done:
            raise ProtocolError("frame %r outside a request body" % chr(kind))
        elif type(exchange) is WebSocketExchange:
            exchange.frame(kind, flags, payload)
            if exchange.body_done:
                self.exchange_done(exchange)
            elif exchange.queued > BODY_QUEUE_LIMIT and not self.reading_paused:
                self.reading_paused = True
                self.transport.pause_reading()
        elif kind == BODY:
            exchange.body_received(payload)
            if exchange.queued > BODY_QUEUE_LIMIT and not self.reading_paused:
                self.reading_paused = True
                self.transport.pause_reading()
        elif kind == END:
            exchange.body_ended()
            self.exchange_done(exchange)
        else:
            raise ProtocolError("frame %r inside a request body" % chr(kind))

    def body_consumed(self, exchange):
        if self.reading_paused and exchange.queued <= BODY_QUEUE_LIMIT // 2:
            self.reading_paused = False
            self.transport.resume_reading()

    def exchange_done(self, exchange):
        """Lets the next request in once exchange's response and body are both complete. A body the app
        left unread is skipped as its frames arrive."""
        if exchange is self.exchange and exchange.complete and exchange.body_done:
            self.exchange = None
            exchange.chunks.clear()
            if self.reading_paused:
                self.reading_paused = False
                self.transport.resume_reading()


class ASGIWorker:
    def __init__(self, app):
        self.app = app
        self.lifespan = Lifespan(app)
        self.active = 0
        self.loop = None

    async def run(self, listener, ready, parent_pipe):
        import asyncio
        loop = self.loop = asyncio.get_running_loop()
        stopping = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stopping.set)
        loop.add_signal_handler(signal.SIGINT, stopping.set)
        loop.add_reader(parent_pipe, os._exit, 1)
        await self.lifespan.startup()
        server = await loop.create_unix_server(lambda: ASGIConnection(self, loop), sock=listener)
        ready()
        await stopping.wait()
        server.close()
        while self.active:
            await asyncio.sleep(0.01)
        await self.lifespan.shutdown()

    def start(self, exchange, flags, count, payload):
        fields = payload.split(b"\0", count)
        path = fields.pop()
        (method, scheme, query, raw_path, http_version,
         client_host, client_port, server_host, server_port) = fields[:9]
        pairs = iter(fields[9:])
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": http_version.decode("latin-1"),
            "method": method.decode("latin-1"),
            "scheme": scheme.decode("latin-1"),
            "path": path.decode("utf-8", "replace"),
            "raw_path": raw_path,
            "query_string": query,
            "root_path": "",
            "headers": list(zip(pairs, pairs)),
            "client": (client_host.decode("latin-1"), int(client_port)),
            "server": (server_host.decode("latin-1"), int(server_port)),
            "state": self.lifespan.state.copy(),
        }
        if flags & WEBSOCKET:
            del scope["method"]
            scope["type"] = "websocket"
            scope["scheme"] = "wss" if scheme == b"https" else "ws"
            scope["subprotocols"] = [protocol.strip().decode("latin-1") for name, value in scope["headers"]
                                     if name == b"sec-websocket-protocol" for protocol in value.split(b",") if protocol.strip()]
            scope["extensions"] = {"websocket.http.response": {}}
        self.active += 1
        start_eagerly(self.loop, exchange.serve(self.app, scope, self))


def run_asgi_worker(app, listener, ready, parent_pipe):
    import asyncio
    try:
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass
    try:
        asyncio.run(ASGIWorker(app).run(listener, ready, parent_pipe))
    except LifespanStartupFailed as exc:
        log("ASGI lifespan startup failed: %s" % exc)
        os._exit(1)


# ---------------------------------------------------------------------------------------------------
# Database driver settings

# A transaction pooler (Supabase's on port 6543) gives each transaction whichever server connection is free, so
# a statement a driver prepared in one transaction may be missing in the next, and two clients' fixed statement
# names collide on one server connection. A URL cannot tell asyncpg or psycopg to stop preparing: the engine
# lists what to set in FERRY_DB_DRIVER_SETTINGS, and this sets it before the app is imported.
DRIVER_SETTINGS_ENV = "FERRY_DB_DRIVER_SETTINGS"


def asyncpg_statement_cache_off():
    import asyncpg
    import asyncpg.connection
    original = asyncpg.connection.connect
    if getattr(original, "ferry_setting", False):
        return

    @functools.wraps(original)
    async def connect(*args, **kwargs):
        kwargs["statement_cache_size"] = 0
        return await original(*args, **kwargs)

    connect.ferry_setting = True
    # Pools and SQLAlchemy call connect through these module attributes.
    asyncpg.connection.connect = connect
    asyncpg.connect = connect


def asyncpg_unique_statement_names():
    import asyncpg.connection

    def unique_id(self, prefix):
        # asyncpg numbers names per process, and forked workers count alike: random names never collide.
        return "__asyncpg_%s_%s__" % (prefix, os.urandom(8).hex())

    asyncpg.connection.Connection._get_unique_id = unique_id


def psycopg_prepare_off():
    import psycopg
    sync_connect = psycopg.Connection.__dict__["connect"].__func__
    async_connect = psycopg.AsyncConnection.__dict__["connect"].__func__
    if getattr(sync_connect, "ferry_setting", False):
        return

    @functools.wraps(sync_connect)
    def connect(cls, *args, **kwargs):
        kwargs["prepare_threshold"] = None
        return sync_connect(cls, *args, **kwargs)

    @functools.wraps(async_connect)
    async def connect_async(cls, *args, **kwargs):
        kwargs["prepare_threshold"] = None
        return await async_connect(cls, *args, **kwargs)

    connect.ferry_setting = True
    psycopg.Connection.connect = classmethod(connect)
    psycopg.AsyncConnection.connect = classmethod(connect_async)
    psycopg.connect = psycopg.Connection.connect  # bound to the original when psycopg was imported


DRIVER_SETTINGS = {
    "asyncpg:statement_cache_size=0": asyncpg_statement_cache_off,
    "asyncpg:unique_statement_names": asyncpg_unique_statement_names,
    "psycopg:prepare_threshold=None": psycopg_prepare_off,
}


def apply_driver_settings(settings):
    """Applies the comma-separated settings of FERRY_DB_DRIVER_SETTINGS. A driver the app does not have is skipped."""
    for setting in filter(None, (part.strip() for part in settings.split(","))):
        apply = DRIVER_SETTINGS.get(setting)
        if apply is None:
            log("unknown database driver setting %r in %s: ignored" % (setting, DRIVER_SETTINGS_ENV))
            continue
        try:
            apply()
        except ImportError as exc:
            log("database driver setting %r not applied: %s" % (setting, exc))


# ---------------------------------------------------------------------------------------------------
# Parent


SUPERVISOR_SIGNALS = (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT)  # the parent's handlers


class Supervisor:
    """Forks the workers, keeps them running, and reports readiness to the engine.

    It starts with one worker; the engine scales it between one and one per socket as requests need, with
    lines on fd 3 ("scale N": run the workers of the first N sockets). Once serving, the parent tells the
    engine "up I" when worker I serves (a new one, or one that replaced a dead one) and "down I" when a
    worker stopped by scaling down has exited: until then requests for its socket could reach it."""

    def __init__(self, run_worker, listeners, control, parked):
        # run_worker(listener, ready, parent_pipe, wait), in the forked worker. ready() tells the parent the
        # worker serves. wait is None for a worker started once serving, else a function to call before
        # loading the app (once prepared, in a parked start), which returns True when it may go on or
        # False when the parent died first.
        self.run_worker = run_worker
        self.listeners = listeners
        self.control = control
        self.parked = parked  # waiting for the engine's go
        self.serving = False  # the engine has been told ready: from then on a worker that dies is replaced
        self.workers = {}  # pid -> worker index
        self.started_at = [0.0] * len(listeners)
        self.restart_delay = [0.0] * len(listeners)
        self.restarts = {}  # worker index -> monotonic time of its due restart
        self.stopping = False
        self.wanted = 1  # the engine's scale: workers of sockets below it run
        self.retiring = set()  # indexes of workers stopped by scaling down that have not exited yet
        self.commands = b""  # what the engine wrote on fd 3 past the last whole line

    def run(self):
        self.wake_r, self.wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, not SIG_IGN, so select wakes and we reap
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        self.ready_r, self.ready_w = os.pipe2(os.O_CLOEXEC)
        self.death_r, self.death_w = os.pipe2(os.O_CLOEXEC)  # workers see EOF when this process dies
        self.parked_r, self.parked_w = os.pipe2(os.O_CLOEXEC)  # a byte from each worker once prepared
        # A byte lets one waiting worker load the app: the first alone, so that it has the CPU to itself,
        # then the others once it serves.
        self.go_r, self.go_w = os.pipe2(os.O_CLOEXEC)
        self._spawn(0)
        unparked = 1 if self.parked else 0
        if not self.parked:
            self._go()
        while True:
            if self.stopping and not self.workers:
                return 0
            timeout = None
            if self.restarts:
                timeout = max(0.0, min(self.restarts.values()) - time.monotonic())
            readable = wait_readable([self.control.fileno(), self.ready_r, self.wake_r, self.parked_r], timeout)
            if self.control.fileno() in readable:
                data = self.control.recv(256)
                if not data:
                    os.killpg(0, signal.SIGKILL)  # the engine is gone: take the whole group with us
                self.commands += data
                while b"\n" in self.commands:
                    line, _, self.commands = self.commands.partition(b"\n")
                    self._command(line.decode("ascii", "replace"))
            if self.parked_r in readable:
                unparked -= len(os.read(self.parked_r, 64))
                if unparked == 0 and self.parked:
                    self.control.sendall(b"parked\n")
            if self.ready_r in readable:
                for index in os.read(self.ready_r, 64):
                    if self.serving:
                        self.control.sendall(b"up %d\n" % index)
                    else:
                        # One worker serving is enough to go on; one that fails to start is replaced like
                        # any that dies.
                        self.serving = True
                        self.control.sendall(b"ready\n")
                        os.write(self.go_w, b"g" * (len(self.workers) - 1))
            if self.wake_r in readable:
                while True:
                    try:
                        if not os.read(self.wake_r, 64):
                            break
                    except BlockingIOError:
                        break
                if not self._reap(starting=not self.serving):
                    return 1
            now = time.monotonic()
            for index, due in list(self.restarts.items()):
                if due <= now and not self.stopping:
                    self.restarts.pop(index, None)  # the SIGTERM handler may have emptied it meanwhile
                    self._spawn(index)

    def _command(self, line):
        if line == "go" and self.parked:
            self.parked = False
            self._go()
        elif line.startswith("scale "):
            self._scale(max(1, min(int(line[len("scale "):]), len(self.listeners))))
        else:
            log("unknown command from the engine: %r" % line)

    def _scale(self, wanted):
        running = set(self.workers.values())
        for index in range(self.wanted, wanted):
            if index not in running and index not in self.restarts:
                self._spawn(index)  # one still retiring starts again once it has exited (_reap)
        for pid, index in list(self.workers.items()):
            if index >= wanted and index not in self.retiring:
                self.retiring.add(index)
                os.kill(pid, signal.SIGTERM)  # it finishes what it holds: the engine sent it nothing more
        for index in [index for index in self.restarts if index >= wanted]:
            del self.restarts[index]
        self.wanted = wanted

    def _go(self):
        now = time.monotonic()
        for index in self.workers.values():
            self.started_at[index] = now
        os.write(self.go_w, b"g")

    def _stop(self, signum, frame):
        self.stopping = True
        self.restarts.clear()
        for pid in list(self.workers):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def _spawn(self, index):
        sys.stdout.flush()
        sys.stderr.flush()
        # Blocked across the fork: a SIGTERM that reaches the worker before it drops the parent's handlers
        # must take the default action then, not run the parent's handler (which would leave it running).
        signal.pthread_sigmask(signal.SIG_BLOCK, SUPERVISOR_SIGNALS)
        try:
            pid = os.fork()
        except BaseException:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, SUPERVISOR_SIGNALS)
            raise
        if pid == 0:
            code = 0
            try:
                self._become_worker(index)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, SUPERVISOR_SIGNALS)
        self.workers[pid] = index
        self.started_at[index] = time.monotonic()

    def _become_worker(self, index):
        signal.set_wakeup_fd(-1)
        for signum in SUPERVISOR_SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, SUPERVISOR_SIGNALS)
        for fd in (self.wake_r, self.wake_w, self.ready_r, self.death_w, self.parked_r, self.go_w):
            os.close(fd)
        self.control.close()
        for other, listener in enumerate(self.listeners):
            if other != index:
                listener.close()
        ready_w = self.ready_w

        def ready():
            os.write(ready_w, bytes([index]))
            os.close(ready_w)

        wait = None
        if not self.serving:
            parked = self.parked

            def wait():
                if parked:
                    os.write(self.parked_w, b"p")
                return os.read(self.go_r, 1) != b""
        self.run_worker(self.listeners[index], ready, self.death_r, wait)

    def _reap(self, starting):
        """Collects exited workers and schedules their restart; False if one died during startup."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return True
            if pid == 0:
                return True
            index = self.workers.pop(pid, None)
            if index is None or self.stopping:
                continue
            if index in self.retiring:
                self.retiring.discard(index)
                self.control.sendall(b"down %d\n" % index)
                if index < self.wanted:  # scaled up again meanwhile
                    self._spawn(index)
                continue
            if os.WIFSIGNALED(status):
                how = "was killed by signal %d" % os.WTERMSIG(status)
            else:
                how = "exited with code %d" % os.WEXITSTATUS(status)
            if starting:
                log("worker %d %s during startup" % (index, how))
                for other in self.workers:
                    os.kill(other, signal.SIGKILL)
                return False
            # A worker that dies right after starting is restarted with a growing delay, not in a tight loop.
            uptime = time.monotonic() - self.started_at[index]
            delay = 0.0 if uptime > 1.0 else min(max(self.restart_delay[index] * 2, 0.1), 5.0)
            self.restart_delay[index] = delay
            log("worker %d (pid %d) %s; starting a new one" % (index, pid, how))
            self.restarts[index] = time.monotonic() + delay


def is_handler_class(value):
    from http.server import BaseHTTPRequestHandler  # here, not at the top: WSGI and ASGI apps need not load it
    return isinstance(value, type) and issubclass(value, BaseHTTPRequestHandler)


def listen(path):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    listener.bind(path)
    listener.listen(128)
    return listener


def local_module_files(root, name, package=None):
    """The files of the app's own module name (dotted, relative to package when given) and of its parent
    packages, in the order importing it runs them; None when name is not the app's but a dependency's."""
    parts = name.split(".") if name else []
    base = package or root
    if package is None and not (os.path.isfile(os.path.join(root, parts[0] + ".py"))
                                or os.path.isdir(os.path.join(root, parts[0]))):
        return None
    files = []
    for index in range(len(parts)):
        path = os.path.join(base, *parts[:index + 1])
        for candidate in (os.path.join(path, "__init__.py"), path + ".py"):
            if os.path.isfile(candidate):
                files.append(candidate)
    return files


def dependencies_before_app_code(root, path, seen, dependencies):
    """Adds to dependencies, in order, what the module at path imports from outside the app before any of the
    app's own code runs, following the app's modules it imports on the way. It returns False where app code
    would run, after which nothing is taken: that code may set what a later import reads (os.environ, a
    monkey-patch), so the dependencies imported ahead must be those the app would have imported first."""
    import ast
    try:
        with open(path, "rb") as source:
            body = ast.parse(source.read(), path).body
    except (OSError, SyntaxError, ValueError):
        return False
    pending = list(reversed(body))
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) or isinstance(node, ast.Pass):
            continue
        if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.decorator_list
                and all(default is None or isinstance(default, ast.Constant)
                        for default in node.args.defaults + node.args.kw_defaults)):
            continue  # defining a plain function runs none of its code
        if isinstance(node, ast.Try) and not node.finalbody:
            pending += reversed(node.body)  # its handlers run only if an import fails: not taken
            continue
        if isinstance(node, ast.Import):
            imports = [(0, alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            imports = [(node.level, node.module or "", [alias.name for alias in node.names])]
        else:
            return False
        for level, module, names in imports:
            base = root
            if level:
                base = os.path.dirname(path)
                for _ in range(level - 1):
                    base = os.path.dirname(base)
            files = local_module_files(root, module, base if level else None)
            if files is None:
                dependencies.append(module)
                continue
            # "from package import name" imports the submodule name, if there is one.
            package = os.path.join(base, *module.split(".")) if module else base
            for name in names:
                files += local_module_files(root, name, package)
            for file in files:
                if file not in seen:
                    seen.add(file)
                    if not dependencies_before_app_code(root, file, seen, dependencies):
                        return False
    return True


def preload(entrypoint):
    """Imports the dependencies the app would import before running any code of its own, found by reading
    its modules. What cannot be imported is left for the app's own import to report."""
    root = os.getcwd()
    dependencies = []
    seen = set()
    for path in local_module_files(root, entrypoint.partition(":")[0]) or ():
        seen.add(path)
        if not dependencies_before_app_code(root, path, seen, dependencies):
            break
    for module in dependencies:
        try:
            importlib.import_module(module)
        except (Exception, SystemExit):
            pass


def main():
    args = sys.argv[1:]
    parked = args[:1] == ["--park"]
    kind, entrypoint, threads, *socket_paths = args[1:] if parked else args
    threads = int(threads)
    sys.argv = sys.argv[:1]
    sys.path[0] = os.getcwd()  # the app's directory, not this script's
    control = socket.socket(fileno=3)
    # Before any import of the app or its dependencies (preloads included): the settings wrap the drivers' modules.
    apply_driver_settings(os.environ.get(DRIVER_SETTINGS_ENV, ""))
    listeners = [listen(path) for path in socket_paths]

    def run_worker(listener, ready, parent_pipe, wait):
        if wait is not None:
            if parked:
                preload(entrypoint)
            if not wait():
                return  # the parent died before its go
        try:
            app = load_app(entrypoint)
        except BaseException as exc:
            print_app_exception(exc)
            log("could not load the app from %r" % entrypoint)
            raise SystemExit(1) from None
        if kind == "handler" and not is_handler_class(app):
            log("%r is not a subclass of http.server.BaseHTTPRequestHandler" % entrypoint)
            raise SystemExit(1)
        if kind == "asgi":
            run_asgi_worker(app, listener, ready, parent_pipe)
        elif kind == "handler":
            run_handler_worker(app, listener, threads, ready, parent_pipe)
        else:
            run_wsgi_worker(app, listener, threads, len(socket_paths), ready, parent_pipe)

    return Supervisor(run_worker, listeners, control, parked).run()


if __name__ == "__main__":
    sys.exit(main())

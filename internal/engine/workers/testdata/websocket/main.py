"""A FastAPI app with WebSocket endpoints, for the tests of WebSockets (the runtime's, the edge's, the
engine's and Terraform's) and their benchmark. /echo echoes text and bytes, accepts with the first
subprotocol offered and an X-Scheme header, and closes with the code a "close:CODE" message asks for;
GET /disconnects lists the websocket.disconnect messages the process saw; /deny answers the upgrade with
a 401 of its own (websocket.http.response)."""
from fastapi import FastAPI, WebSocket

app = FastAPI()
disconnects = []

@app.websocket("/echo")
async def echo(ws: WebSocket):
    offered = ws.scope["subprotocols"]
    await ws.accept(subprotocol=offered[0] if offered else None, headers=[(b"x-scheme", ws.scope["scheme"].encode())])
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            disconnects.append({"code": message["code"], "reason": message.get("reason", "")})
            return
        text = message.get("text")
        if text is not None and text.startswith("close:"):
            await ws.close(code=int(text[6:]), reason="asked to close")
            return
        if text is not None:
            await ws.send_text(text)
        else:
            await ws.send_bytes(message["bytes"])

@app.websocket("/refuse")
async def refuse(ws: WebSocket):
    await ws.close(code=1008)

@app.websocket("/deny")
async def deny(ws: WebSocket):
    # The Denial Response extension, as raw ASGI messages: the server must offer it in the scope.
    if "websocket.http.response" not in ws.scope.get("extensions", {}):
        await ws.close(code=1011)
        return
    await ws._send({"type": "websocket.http.response.start", "status": 401,
                    "headers": [(b"content-type", b"text/plain"), (b"www-authenticate", b"Bearer")]})
    await ws._send({"type": "websocket.http.response.body", "body": b"sign in ", "more_body": True})
    await ws._send({"type": "websocket.http.response.body", "body": b"first"})

@app.websocket("/fail-before-accept")
async def fail_before_accept(ws: WebSocket):
    raise RuntimeError("boom before accept")

@app.websocket("/fail-after-accept")
async def fail_after_accept(ws: WebSocket):
    await ws.accept()
    await ws.receive()
    raise RuntimeError("boom after accept")

@app.get("/disconnects")
async def list_disconnects():
    return disconnects

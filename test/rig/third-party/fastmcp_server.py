"""FastMCP (PyPI) with its in-memory OAuth provider, as its documentation sets it up: the MCP
server is its own authorization server, with dynamic registration and revocation.

Usage: fastmcp_server.py http|sse. Listens on 127.0.0.1, an ephemeral port; the first line on
stdout is JSON: {"url": <MCP endpoint>}. RIG_ACCESS_TTL sets the access token lifetime in
seconds (the provider's module default, one hour, otherwise).
"""

import asyncio
import json
import os
import socket
import sys

import uvicorn
from fastmcp import FastMCP
from fastmcp.server.auth.providers import in_memory
from mcp.server.auth.settings import ClientRegistrationOptions, RevocationOptions

transport = sys.argv[1] if len(sys.argv) > 1 else "http"
if transport not in ("http", "sse"):
    sys.exit("usage: fastmcp_server.py http|sse")
if "RIG_ACCESS_TTL" in os.environ:
    in_memory.DEFAULT_ACCESS_TOKEN_EXPIRY_SECONDS = int(os.environ["RIG_ACCESS_TTL"])

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", 0))
sock.listen(128)  # connections wait in the backlog until uvicorn serves them
base = f"http://127.0.0.1:{sock.getsockname()[1]}"

auth = in_memory.InMemoryOAuthProvider(
    base_url=base,
    client_registration_options=ClientRegistrationOptions(enabled=True),
    revocation_options=RevocationOptions(enabled=True),
)
mcp = FastMCP("rig-fastmcp", auth=auth)


@mcp.tool
def echo(text: str) -> str:
    """Echoes its text."""
    return text


path = "/mcp" if transport == "http" else "/sse"
app = mcp.http_app(transport=transport, path=path)
server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
print(json.dumps({"url": base + path}), flush=True)
asyncio.run(server.serve(sockets=[sock]))

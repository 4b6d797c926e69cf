"""An MCP server and a separate authorization server built from the MCP Python SDK's own auth
components, in the shape of the SDK's `simple-auth` example: the AS has dynamic registration,
a login form, revocation and an introspection endpoint; the resource server checks tokens by
introspection and accepts only tokens issued for itself (the example's --oauth-strict).

Written for the rig, not shipped by the SDK. Both listen on 127.0.0.1, ephemeral ports; the first
line on stdout is JSON: {"url": <MCP endpoint>, "issuer": <AS>}. RIG_ACCESS_TTL sets the access
token lifetime in seconds. Like the example, it issues no refresh tokens.
"""

import asyncio
import html
import json
import os
import secrets
import socket
import time

import httpx2
import uvicorn
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    OAuthAuthorizationServerProvider,
    RefreshToken,
    TokenError,
    construct_redirect_uri,
)
from mcp.server.auth.routes import create_auth_routes
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
from mcp.server.mcpserver import MCPServer
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyHttpUrl
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

TTL = int(os.environ.get("RIG_ACCESS_TTL", "3600"))
USER, PASSWORD = "demo_user", "demo_password"
SCOPE = "user"


def bind() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(128)  # connections wait in the backlog until uvicorn serves them
    return s


class SimpleProvider(OAuthAuthorizationServerProvider[AuthorizationCode, RefreshToken, AccessToken]):
    """In-memory clients, codes and tokens; the person signs in on /login."""

    def __init__(self, issuer: str):
        self.issuer = issuer
        self.clients: dict[str, OAuthClientInformationFull] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.tokens: dict[str, AccessToken] = {}
        self.pending: dict[str, tuple[str, AuthorizationParams]] = {}

    async def get_client(self, client_id: str):
        return self.clients.get(client_id)

    async def register_client(self, client_info: OAuthClientInformationFull):
        self.clients[client_info.client_id] = client_info

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        key = secrets.token_hex(16)
        self.pending[key] = (client.client_id, params)
        return f"{self.issuer}/login?request={key}"

    async def login(self, request: Request) -> Response:
        form = await request.form()
        key = str(form.get("request", ""))
        if key not in self.pending:
            return HTMLResponse("<p>Unknown or used sign-in request.</p>", status_code=400)
        if form.get("username") != USER or form.get("password") != PASSWORD:
            return HTMLResponse("<p>Wrong user name or password.</p>", status_code=401)
        client_id, params = self.pending.pop(key)
        code = f"code_{secrets.token_hex(16)}"
        self.codes[code] = AuthorizationCode(
            code=code,
            client_id=client_id,
            redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            expires_at=time.time() + 300,
            scopes=params.scopes or [SCOPE],
            code_challenge=params.code_challenge,
            resource=params.resource,
            subject=USER,
        )
        return RedirectResponse(construct_redirect_uri(str(params.redirect_uri), code=code, state=params.state), status_code=302)

    async def load_authorization_code(self, client, authorization_code):
        c = self.codes.get(authorization_code)
        return c if c and c.client_id == client.client_id else None

    async def exchange_authorization_code(self, client, authorization_code) -> OAuthToken:
        if self.codes.pop(authorization_code.code, None) is None:
            raise TokenError("invalid_grant", "authorization code not found or already used")
        token = f"mcp_{secrets.token_hex(32)}"
        self.tokens[token] = AccessToken(
            token=token,
            client_id=client.client_id,
            scopes=authorization_code.scopes,
            expires_at=int(time.time()) + TTL,
            resource=authorization_code.resource,
            subject=authorization_code.subject,
        )
        return OAuthToken(access_token=token, token_type="Bearer", expires_in=TTL, scope=" ".join(authorization_code.scopes))

    async def load_access_token(self, token: str):
        t = self.tokens.get(token)
        if t and t.expires_at and t.expires_at < time.time():
            del self.tokens[token]
            return None
        return t

    async def load_refresh_token(self, client, refresh_token):
        return None

    async def exchange_refresh_token(self, client, refresh_token, scopes):
        raise NotImplementedError("this server issues no refresh tokens")

    async def revoke_token(self, token):
        self.tokens.pop(token.token, None)


def auth_server(provider: SimpleProvider) -> Starlette:
    async def login_page(request: Request) -> Response:
        key = html.escape(request.query_params.get("request", ""))
        return HTMLResponse(
            "<!doctype html><title>Sign in</title><h1>Sign in to the MCP demo</h1>"
            f'<form method="post" action="/login"><input type="hidden" name="request" value="{key}">'
            f'<label>User <input name="username" value="{USER}"></label> '
            f'<label>Password <input name="password" type="password" value="{PASSWORD}"></label>'
            '<button type="submit">Sign in</button></form>'
        )

    async def introspect(request: Request) -> Response:
        form = await request.form()
        t = await provider.load_access_token(str(form.get("token", "")))
        if not t:
            return JSONResponse({"active": False})
        return JSONResponse({"active": True, "client_id": t.client_id, "scope": " ".join(t.scopes), "exp": t.expires_at, "sub": t.subject, "aud": t.resource, "iss": provider.issuer})

    routes = create_auth_routes(
        provider=provider,
        issuer_url=AnyHttpUrl(provider.issuer),
        client_registration_options=ClientRegistrationOptions(enabled=True, valid_scopes=[SCOPE], default_scopes=[SCOPE]),
        revocation_options=RevocationOptions(enabled=True),
    )
    routes += [Route("/login", login_page, methods=["GET"]), Route("/login", provider.login, methods=["POST"]), Route("/introspect", introspect, methods=["POST"])]
    return Starlette(routes=routes)


class IntrospectionVerifier:
    """The resource server's side: asks the AS about each token (RFC 7662)."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint

    async def verify_token(self, token: str):
        async with httpx2.AsyncClient(timeout=5) as http:
            r = await http.post(self.endpoint, data={"token": token})
        d = r.json() if r.status_code == 200 else {}
        if not d.get("active"):
            return None
        return AccessToken(token=token, client_id=d["client_id"], scopes=d.get("scope", "").split(), expires_at=d.get("exp"), resource=d.get("aud"), subject=d.get("sub"))


async def main() -> None:
    as_sock, rs_sock = bind(), bind()
    issuer = f"http://127.0.0.1:{as_sock.getsockname()[1]}"
    rs = f"http://127.0.0.1:{rs_sock.getsockname()[1]}"
    provider = SimpleProvider(issuer)
    mcp = MCPServer(
        "rig-python-sdk",
        token_verifier=IntrospectionVerifier(f"{issuer}/introspect"),
        auth=AuthSettings(issuer_url=issuer, resource_server_url=f"{rs}/mcp", required_scopes=[SCOPE], validate_token_resource=True),
    )

    @mcp.tool()
    def echo(text: str) -> str:
        """Echoes its text."""
        return text

    servers = [
        uvicorn.Server(uvicorn.Config(auth_server(provider), log_level="warning")),
        uvicorn.Server(uvicorn.Config(mcp.streamable_http_app(), log_level="warning")),
    ]
    print(json.dumps({"url": f"{rs}/mcp", "issuer": issuer}), flush=True)
    await asyncio.gather(servers[0].serve(sockets=[as_sock]), servers[1].serve(sockets=[rs_sock]))


if __name__ == "__main__":
    asyncio.run(main())

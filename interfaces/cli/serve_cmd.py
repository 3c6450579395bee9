"""`cto-advisor serve` (the REST and OpenAI-compatible API) and `cto-advisor mcp` (stdio MCP).

These two commands only *start* the other interfaces, so they import them lazily; the
import-linter contract that keeps the interfaces independent lists exactly these imports.
"""

from __future__ import annotations

import ipaddress
import logging
from pathlib import Path
from typing import Annotated

import typer

from advisor.core.errors import ConfigError
from advisor.service.accounts import AccountStore
from interfaces.cli.base import app, err_console, settings_from_cli

log = logging.getLogger("advisor.api")


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: only this machine can connect."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, tls: bool, behind_proxy: bool) -> None:
    """Refuse to send tokens and client documents in clear over the network."""
    if is_loopback(host) or tls or behind_proxy:
        return
    raise ConfigError(
        f"{host} is reachable from other machines and the API would send tokens and client "
        "documents unencrypted: pass --ssl-certfile and --ssl-keyfile, or put the server behind "
        "a TLS reverse proxy and pass --behind-tls-proxy (or bind 127.0.0.1)"
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one).")] = 8080,
    ssl_certfile: Annotated[
        Path | None, typer.Option(help="TLS certificate (PEM), to serve HTTPS.")
    ] = None,
    ssl_keyfile: Annotated[Path | None, typer.Option(help="TLS private key (PEM).")] = None,
    behind_tls_proxy: Annotated[
        bool,
        typer.Option(help="Allow a non-loopback address over plain HTTP: a proxy terminates TLS."),
    ] = False,
) -> None:
    """Serve the REST API (/v1, OpenAPI at /docs) and the OpenAI-compatible endpoint."""
    import uvicorn

    from interfaces.api.app import create_app

    if bool(ssl_certfile) != bool(ssl_keyfile):
        raise ConfigError("TLS needs both --ssl-certfile and --ssl-keyfile")
    check_bind(host, tls=bool(ssl_certfile), behind_proxy=behind_tls_proxy)
    settings = settings_from_cli()
    if not AccountStore(settings).exists():
        err_console.print(
            "[yellow]warning:[/] no accounts yet, so every request will be refused: add one with "
            "`cto-advisor users add EMAIL --role cto`, then `cto-advisor tokens create EMAIL`",
            highlight=False,
        )
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
        ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
        proxy_headers=behind_tls_proxy,
        server_header=False,
        log_level="info",
    )


@app.command()
def mcp() -> None:
    """Run the MCP server over stdio, as the user of the token in ADVISOR_API_TOKEN."""
    from interfaces.mcp.server import serve as serve_mcp

    serve_mcp(settings_from_cli())

"""Serve the page on this machine: a private temporary folder, Gradio's telemetry off, cleaned up on exit."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Callable

from human3d.errors import Human3DError
from human3d.webapp.models import Models
from human3d.webapp.uploads import UploadLimits

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
ANY_HOST = ("0.0.0.0", "::")  # every address of this machine


def is_local(host: str) -> bool:
    """Whether only this machine can reach a server bound to ``host``."""
    return host in LOCAL_HOSTS


def private_environment(root: Path) -> None:
    """Keep Gradio's uploads and copies under ``root``, and every usage report and update check off."""
    os.environ["GRADIO_TEMP_DIR"] = str(root / "gradio")
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"


def stop_on_sigterm() -> None:
    """Make SIGTERM stop the server as Ctrl+C does (so that the temporary folder is removed)."""
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def serve(models: Models, limits: UploadLimits, host: str = "127.0.0.1", port: int = 7860,
          open_browser: bool = False, say: Callable[[str], None] = print) -> None:
    """Serve the page at ``host``:``port`` until interrupted; results live in a temporary folder removed at
    the end. ``say`` receives the lines for the user (the address, the folder)."""
    if not 0 < port < 65536:
        raise Human3DError(f"--port {port}: not a port number (1 to 65535)")
    root = Path(tempfile.mkdtemp(prefix="human3d-serve-"))
    try:
        private_environment(root)
        try:
            from human3d.webapp.page import build_page
        except ImportError as error:
            raise Human3DError(f"human3d serve needs the web app's packages ({error.name} is missing): "
                               "pip install 'human3d[serve]'") from None
        page = build_page(models, limits, root / "jobs")
        stop_on_sigterm()
        shown = "127.0.0.1" if host in ANY_HOST else host
        address = f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}"
        try:
            page.launch(server_name=host, server_port=port, inbrowser=open_browser, quiet=True,
                        prevent_thread_lock=True, max_file_size=int(limits.megabytes * 1e6),
                        allowed_paths=[str(root)], footer_links=[], ssr_mode=False, pwa=False, mcp_server=False,
                        enable_monitoring=False, share=False)
        except OSError:
            raise Human3DError(f"cannot serve at {host} port {port}: it is in use or not allowed here; choose "
                               "another --port") from None
        say(f"human3d serve: open {address} in a browser; Ctrl+C stops it")
        say(f"human3d serve: results are kept in {root} and removed when it stops")
        if not is_local(host):
            print(f"human3d serve: warning: --host {host} lets other machines reach this page, the files dropped "
                  "on it and the results", file=sys.stderr)
        page.block_thread()
    finally:
        shutil.rmtree(root, ignore_errors=True)

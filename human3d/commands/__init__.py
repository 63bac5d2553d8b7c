"""CLI subcommands. Each module here defines ``register(subparsers)`` and is found automatically.

``register`` adds one or more subparsers and sets ``func`` on each to a callable taking the parsed
``argparse.Namespace`` and returning an exit code. Keep these modules thin: parse arguments, call
the library, print.
"""

"""One module per `nas` command; each has `add_parser(subparsers)` and `run(args) -> int`."""

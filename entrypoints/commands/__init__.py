"""One module per `runstream` subcommand, each with `add_parser` and `run`."""

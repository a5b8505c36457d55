"""The ``journal`` command line: `journal.cli.main` builds the parser and runs a command;
one module per command."""

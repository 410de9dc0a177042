"""The command line: parse, build adapters, call the library, format."""

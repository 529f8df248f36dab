"""The project's one error for bad input, in a module that imports nothing: the store (and
with it a fresh server's first page) raises it without loading the config machinery that
cnnexp.config, which re-exports it, needs."""


class ConfigError(ValueError):
    """Bad input. The message names the field, the value given and what is allowed."""

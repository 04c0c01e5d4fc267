"""Errors that describe bad input rather than a bug.

The command line prints a ``UserError`` as one or two plain lines (what is wrong, what is allowed
or how to fix it) and exits non-zero; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """Base of every error caused by the user's input (config, names, files, installs)."""


class ConfigError(UserError, ValueError):
    """A config value has the wrong type or range, or settings contradict each other."""


class UnknownNameError(UserError, KeyError):
    """A registry has no entry of that name (the message lists the known ones)."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class PluginLoadError(UserError, RuntimeError):
    """An installed plugin could not be imported or registered under its entry-point name."""


class MissingDataError(UserError, FileNotFoundError):
    """A data file, benchmark file or checkpoint is absent (the message says how to get it)."""


class MissingDependencyError(UserError, ImportError):
    """An optional extra is not installed (the message gives the install command)."""

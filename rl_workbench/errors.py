"""Every error a user can cause derives from :class:`RLWorkbenchError`.

The CLI catches this one base class, prints ``title: message`` on stderr and exits with status 2,
so a message must name the problem, the value received and the fix on its own.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class RLWorkbenchError(Exception):
    """Base class: bad input or a broken artifact that the user can fix."""

    title = "Error"


class InvalidArgumentError(RLWorkbenchError, ValueError):
    """A parameter value is out of range or two parameters contradict each other."""

    title = "Invalid argument"


class UnknownNameError(RLWorkbenchError, KeyError):
    """A name (environment id, zoo agent, method, ...) is not in its registry."""

    title = "Unknown name"

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class InvalidEditError(RLWorkbenchError, ValueError):
    """An edit would make an illegal level (e.g. cheese on a wall, a wall outside the maze)."""

    title = "Invalid edit"


class AgentLoadError(RLWorkbenchError):
    """An agent file is missing, is not a stable-baselines3 model, or cannot be read."""

    title = "Cannot load agent"


class UntrustedAgentError(AgentLoadError):
    """An agent file pickles a class off the allowlist: loading it would run code from it."""

    title = "Refused agent file"


class UnsupportedAlgorithmError(AgentLoadError):
    """An agent file was saved by an algorithm the workbench does not read (SAC, TD3, ...)."""

    title = "Unsupported algorithm"


class SpaceMismatchError(RLWorkbenchError):
    """The agent was trained on observations or actions that differ from the environment's."""

    title = "Agent and environment do not match"


class DatasetError(RLWorkbenchError):
    """A dataset folder is missing, incomplete or of an unknown format version."""

    title = "Bad dataset"


class MissingDependencyError(RLWorkbenchError, ImportError):
    """An optional dependency is needed for this feature."""

    title = "Missing dependency"


class OutputFolderError(RLWorkbenchError):
    """An output folder is a file, cannot be written, or is in use by another run."""

    title = "Cannot write output"


class ResumeMismatchError(RLWorkbenchError):
    """A checkpoint was made with other settings than the run that would resume it."""

    title = "Cannot resume"


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return a sentence suggesting the closest valid names and listing them all."""
    choices = sorted(choices)
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"{hint} Valid choices: {', '.join(choices)}."

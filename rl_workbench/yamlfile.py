"""Reading declarative YAML files (audit suites, quiz decks) with errors that point into them.

The tree is composed (not just loaded) so every value keeps its line; each accessor checks one
field's kind and, when it is wrong, raises the caller's error naming the file, the line, the
field, what was expected and what was found.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from rl_workbench.errors import RLWorkbenchError


def read_text(path: str | Path, error: type[RLWorkbenchError]) -> str:
    """The text of a YAML file; a file that cannot be read or is not UTF-8 text (binary garbage,
    an image, a zip given by mistake) raises ``error`` in one line instead of a decode error.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise error(f"{path} cannot be read ({exc.strerror or exc}). Pass a YAML file.") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(
            f"{path} is not a UTF-8 text file (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start}), so not YAML. Pass a YAML file."
        ) from None


def compose(text: str, source: str, error: type[RLWorkbenchError]) -> yaml.Node | None:
    """The YAML node tree of ``text``; invalid YAML raises ``error`` with the line."""
    try:
        return yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"{where}: not valid YAML ({problem}).") from None


class YamlReader:
    """Typed access to a composed YAML tree, with errors that point into the file."""

    def __init__(self, source: str, error: type[RLWorkbenchError]) -> None:
        self.source = source
        self.error = error

    def where(self, node: yaml.Node | None, fieldname: str, expected: str, got: str) -> str:
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        return f"{self.source}{line}: field '{fieldname}': expected {expected}, got {got}."

    def fail(self, node: yaml.Node | None, fieldname: str, expected: str) -> RLWorkbenchError:
        if node is None:
            got = "nothing"
        elif isinstance(node, yaml.ScalarNode):
            got = repr(node.value)
        else:
            got = "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"
        return self.error(self.where(node, fieldname, expected, got))

    def mapping(
        self, node: yaml.Node | None, fieldname: str, required: bool = True
    ) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, fieldname, "a mapping of fields")
        out: dict[str, yaml.Node] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise self.fail(key, fieldname, "field names as plain text")
            out[key.value] = value
        out["__node__"] = node  # type: ignore[assignment]
        return out

    def only(self, mapping: dict[str, yaml.Node], fieldname: str, allowed: tuple[str, ...]) -> None:
        for key, value in mapping.items():
            if key != "__node__" and key not in allowed:
                raise self.error(
                    self.where(
                        value,
                        f"{fieldname}.{key}" if fieldname != "the suite" else key,
                        f"one of the fields {', '.join(allowed)}",
                        f"unknown field {key!r}",
                    )
                )

    def get(
        self, mapping: dict[str, yaml.Node], key: str, required: bool = False
    ) -> yaml.Node | None:
        node = mapping.get(key)
        if node is None and required:
            raise self.error(
                f"{self.source}:{mapping['__node__'].start_mark.line + 1}: missing required "
                f"field '{key}'."
            )
        return node

    def sequence(self, node: yaml.Node, fieldname: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, fieldname, "a list")
        return list(node.value)

    def scalar(self, node: yaml.Node | None, fieldname: str, expected: str) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, fieldname, expected)
        return yaml.safe_load(yaml.serialize(node))

    def string(self, node: yaml.Node | None, fieldname: str, default: str | None = None) -> str:
        if node is None and default is not None:
            return default
        value = self.scalar(node, fieldname, "text")
        if not isinstance(value, str) or not value.strip():
            raise self.fail(node, fieldname, "non-empty text")
        return value

    def choice(
        self,
        node: yaml.Node | None,
        fieldname: str,
        options: tuple[str, ...],
        default: str | None = None,
    ) -> str:
        if node is None and default is not None:
            return default
        value = self.scalar(node, fieldname, f"one of {', '.join(options)}")
        if value not in options:
            raise self.fail(node, fieldname, f"one of {', '.join(options)}")
        return value

    def integer(
        self, node: yaml.Node | None, fieldname: str, low: int, high: int, default: int
    ) -> int:
        if node is None:
            return default
        value = self.scalar(node, fieldname, f"a whole number from {low} to {high}")
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(node, fieldname, f"a whole number from {low} to {high}")
        return value

    def fraction(self, node: yaml.Node | None, fieldname: str) -> float:
        value = self.scalar(node, fieldname, "a number from 0 to 1")
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise self.fail(node, fieldname, "a number from 0 to 1")
        return float(value)

    def kwargs(self, node: yaml.Node | None, fieldname: str) -> dict[str, Any]:
        if node is None:
            return {}
        mapping = self.mapping(node, fieldname)
        out = {}
        for key, value in mapping.items():
            if key == "__node__":
                continue
            if not isinstance(value, yaml.ScalarNode):
                raise self.fail(value, f"{fieldname}.{key}", "a plain value")
            out[key] = yaml.safe_load(yaml.serialize(value))
        return out

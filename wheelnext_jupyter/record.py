"""`Record`: frozen record classes that cost microseconds to define.

`@dataclass` compiles five or six methods from source text for every class it decorates, about a
millisecond each class in a fresh interpreter, and importing `dataclasses` pulls in `inspect`.
Detection defines some twenty record types on its import path and the engine some fifty, which
the command line pays for before its first request; these use one set of generic methods
instead, built from the class's annotations. Behaviour matches a frozen dataclass: positional or
keyword construction with defaults, field-wise `==` and `hash` between instances of the same
class, the same `repr`, `FrozenInstanceError` on assignment, `__match_args__`.

Constructing one takes about 2.7 µs against a dataclass's 0.9 µs, so records made by the
thousand in one install (members of cached wheels, files of an index page) stay dataclasses.
"""

from __future__ import annotations

TYPE_CHECKING = False  # mypy treats this name as true; `typing` stays off the import path
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, ClassVar, TypeVar

    from typing_extensions import dataclass_transform

    T = TypeVar("T")
    R = TypeVar("R", bound="Record")
else:

    def dataclass_transform(**_options: object) -> object:
        return lambda cls: cls


class _Factory:
    """A default made fresh for every instance (`field(default_factory=...)`)."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[], object]) -> None:
        self.make = make


def field(*, default_factory: Callable[[], T]) -> T:
    """A field whose default is `default_factory()`, called once per instance."""
    return _Factory(default_factory)  # type: ignore[return-value]  # replaced at construction


def _is_class_variable(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return text.startswith(("ClassVar", "typing.ClassVar"))


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
class Record:
    """Base class: annotated class attributes are the fields, in order; values are defaults."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = list(cls._fields)
        defaults = dict(cls._defaults)
        # The class's own annotations (`inspect.get_annotations` would import `inspect`).
        own = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
        for name, annotation in own.items():
            if _is_class_variable(annotation):
                continue
            if name not in fields:
                fields.append(name)
            if name in cls.__dict__:
                defaults[name] = cls.__dict__[name]
                delattr(cls, name)  # a class attribute would hide a missing instance value
            else:
                defaults.pop(name, None)
        required = [name for name in fields if name not in defaults]
        if required and fields.index(required[-1]) >= len(required):
            raise TypeError(f"non-default argument {required[-1]!r} follows default argument")
        cls._fields = tuple(fields)
        cls._defaults = defaults
        cls.__match_args__ = cls._fields  # type: ignore[attr-defined,misc]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        fields = self._fields
        if len(args) > len(fields):
            raise TypeError(
                f"{type(self).__name__}.__init__() takes {len(fields) + 1} positional arguments "
                f"but {len(args) + 1} were given"
            )
        values = dict(zip(fields, args, strict=False))
        for name, value in kwargs.items():
            if name not in fields:
                raise TypeError(
                    f"{type(self).__name__}.__init__() got an unexpected keyword argument {name!r}"
                )
            if name in values:
                raise TypeError(
                    f"{type(self).__name__}.__init__() got multiple values for argument {name!r}"
                )
            values[name] = value
        if len(values) < len(fields):
            for name in fields:
                if name in values:
                    continue
                if name not in self._defaults:
                    raise TypeError(
                        f"{type(self).__name__}.__init__() missing required argument: {name!r}"
                    )
                default = self._defaults[name]
                values[name] = default.make() if isinstance(default, _Factory) else default
        object.__setattr__(self, "__dict__", {name: values[name] for name in fields})
        post_init = getattr(self, "__post_init__", None)
        if post_init is not None:
            post_init()

    def _values(self) -> tuple[Any, ...]:
        return tuple(self.__dict__[name] for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Record)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={self.__dict__[name]!r}" for name in self._fields)
        return f"{type(self).__qualname__}({shown})"

    def __setattr__(self, name: str, value: object) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")


def replace(record: R, **changes: Any) -> R:
    """A copy of `record` with some fields changed (`dataclasses.replace` for records)."""
    values = {name: record.__dict__[name] for name in record._fields}
    values.update(changes)
    return type(record)(**values)

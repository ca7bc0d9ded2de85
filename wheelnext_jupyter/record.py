"""`Record` and `MutableRecord`: record classes that cost microseconds to define.

`@dataclass` compiles five or six methods from source text for every class it decorates, about a
millisecond each class in a fresh interpreter, and importing `dataclasses` pulls in `inspect`.
The command line defines dozens of record types before its first request; they subclass
`Record` (frozen) or `MutableRecord` instead. Defining one reads the class's annotations and
makes `==` and `hash` from an `operator.itemgetter` over the compared fields. Its first
instances are built by a generic `__init__` from the field table; after `COMPILE_AFTER` of them
the class compiles an `__init__` of its own (one `exec`, kept on the class). A class made a few
times per run never pays for compiling, and one made by the thousand constructs as fast as a
dataclass, a frozen one faster (its values go straight into the instance's `__dict__`).

Behaviour matches a dataclass with the same fields (`frozen=True` for `Record`, `eq=True`):
positional or keyword construction, defaults and `field(default=, default_factory=, init=,
repr=, compare=)`, `__post_init__`, field-wise `==` between instances of one class, `hash` of
the compared fields' tuple for a `Record` (a `MutableRecord` is unhashable), the same `repr`,
`FrozenInstanceError` on assignment, `__match_args__`, fields inherited from a record base
class. `replace` and `field_names` stand in for `dataclasses.replace` and `dataclasses.fields`.
Values live in the instance's `__dict__`, so `functools.cached_property` works on records.
"""

from __future__ import annotations

from operator import itemgetter

TYPE_CHECKING = False  # mypy treats this name as true; `typing` stays off the import path
# The typing branch comes last: linters take the last binding of `overload` for the real one.
if not TYPE_CHECKING:

    def dataclass_transform(**_options: object) -> object:
        return lambda cls: cls

    def overload(function: object) -> object:
        return function

else:
    from collections.abc import Callable
    from typing import Any, ClassVar, TypeVar, overload

    from typing_extensions import dataclass_transform

    T = TypeVar("T")
    R = TypeVar("R", bound="_RecordBase")


class _Missing:
    """No value: a field without default, an argument not given."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


class _Field:
    """A field's default and whether `__init__` takes it, `repr` shows it and `==` compares it."""

    __slots__ = ("compare", "default", "factory", "init", "repr", "required")

    def __init__(
        self,
        default: object = _MISSING,
        factory: Callable[[], object] | None = None,
        *,
        init: bool = True,
        repr: bool = True,
        compare: bool = True,
    ) -> None:
        self.default = default
        self.factory = factory
        self.init = init
        self.repr = repr
        self.compare = compare
        self.required = default is _MISSING and factory is None


_REQUIRED = _Field()


@overload
def field(*, default: T, init: bool = True, repr: bool = True, compare: bool = True) -> T: ...
@overload
def field(
    *, default_factory: Callable[[], T], init: bool = True, repr: bool = True, compare: bool = True
) -> T: ...
@overload
def field(*, init: bool = True, repr: bool = True, compare: bool = True) -> Any: ...
def field(
    *,
    default: Any = _MISSING,
    default_factory: Callable[[], Any] | None = None,
    init: bool = True,
    repr: bool = True,
    compare: bool = True,
) -> Any:
    """A field with options: `default`, or `default_factory()` called once per instance;
    `init=False` leaves it out of `__init__` (set by its default or by `__post_init__`),
    `repr=False` out of the repr, `compare=False` out of `==` and `hash`."""
    if default is not _MISSING and default_factory is not None:
        raise ValueError("cannot specify both default and default_factory")
    return _Field(default, default_factory, init=init, repr=repr, compare=compare)


def _is_class_variable(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return text.startswith(("ClassVar", "typing.ClassVar"))


def _values_key(names: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """The compared values, as a tuple, out of an instance's `__dict__` (which may also hold
    `cached_property` values: only the named fields count)."""
    if len(names) >= 2:
        return itemgetter(*names)
    if names:
        (name,) = names  # itemgetter of one name returns the bare value, not a 1-tuple
        return lambda values: (values[name],)
    return lambda values: ()


def _eq_method(key: Callable[[dict[str, Any]], tuple[Any, ...]]) -> Callable[[Any, object], Any]:
    def __eq__(self: Any, other: object) -> Any:
        if other.__class__ is self.__class__:
            return key(self.__dict__) == key(other.__dict__)
        return NotImplemented

    return __eq__


def _hash_method(key: Callable[[dict[str, Any]], tuple[Any, ...]]) -> Callable[[Any], int]:
    def __hash__(self: Any) -> int:
        return hash(key(self.__dict__))

    return __hash__


#: How many instances a class makes with the generic `__init__` before its own is compiled.
#: Compiling one (an `exec`) takes 0.1 to 0.25 ms, about what a hundred constructions lose by
#: going through the generic one: a class made a few times per run never pays it, one made by
#: the thousand pays it once.
COMPILE_AFTER = 100


def _generic_init(cls: type[_RecordBase]) -> Callable[..., None]:
    """`cls.__init__` until `cls` has made `COMPILE_AFTER` instances, then compiles its own."""
    made = 0

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal made
        made += 1
        if made >= COMPILE_AFTER:  # `>=`: a count lost between threads only compiles twice
            cls.__init__ = _compile_init(cls)  # type: ignore[method-assign]
        _build(cls, self, args, kwargs)

    __init__.__qualname__ = f"{cls.__name__}.__init__"
    return __init__


def _build(
    cls: type[_RecordBase], record: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """What `cls`'s compiled `__init__` does, from its field table: the same values, the same
    errors in the same order (keywords as Python checks them, then positional count, then
    missing fields in order)."""
    specs = cls._specs
    arguments = cls.__match_args__
    values = dict(zip(arguments, args, strict=False))
    for name, value in kwargs.items():
        spec = specs.get(name)
        if spec is None or not spec.init:
            raise TypeError(
                f"{cls.__name__}.__init__() got an unexpected keyword argument {name!r}"
            )
        if name in values:
            raise TypeError(f"{cls.__name__}.__init__() got multiple values for argument {name!r}")
        values[name] = value
    if len(args) > len(arguments):
        _too_many_arguments(cls, args[len(arguments) :])
    for name in arguments[len(args) :]:
        if name not in values:
            spec = specs[name]
            if spec.factory is not None:
                values[name] = spec.factory()
            elif spec.default is not _MISSING:
                values[name] = spec.default
            else:
                _missing_argument(cls, name)
    # Stored in field order; fields without `init` are made here, after every check, as in the
    # compiled `__init__`.
    stored = {}
    for name, spec in specs.items():
        if spec.init:
            stored[name] = values[name]
        elif spec.factory is not None:
            stored[name] = spec.factory()
        elif spec.default is not _MISSING:
            stored[name] = spec.default
    if cls._frozen:
        record.__dict__.update(stored)
    else:
        for name, value in stored.items():
            setattr(record, name, value)
    post_init = getattr(record, "__post_init__", None)
    if post_init is not None:
        post_init()


def _compile_init(cls: type[_RecordBase]) -> Callable[..., None]:
    """An `__init__` written for `cls`'s fields, as a dataclass's is; defaults and factories are
    globals of the compiled function. Required fields default to a marker, so that a missing
    one is reported as the records' own message says."""
    specs = cls._specs
    this = "__record_self__" if "self" in specs else "self"
    namespace: dict[str, Any] = {
        "__name__": cls.__module__,
        "__record_class__": cls,
        "__record_missing__": _MISSING,
        "__record_required__": _missing_argument,
        "__record_too_many__": _too_many_arguments,
    }
    parameters = [this]
    checks = [" if __record_extra__: __record_too_many__(__record_class__, __record_extra__)"]
    stores = []
    for name, spec in specs.items():
        default, factory = f"__record_default_{name}__", f"__record_factory_{name}__"
        if spec.default is not _MISSING:
            namespace[default] = spec.default
        if spec.factory is not None:
            namespace[factory] = spec.factory
        if spec.init:
            if spec.default is not _MISSING:
                parameters.append(f"{name}={default}")
            else:
                parameters.append(f"{name}=__record_missing__")
                if spec.factory is not None:
                    checks.append(f" if {name} is __record_missing__: {name} = {factory}()")
                else:
                    checks.append(
                        f" if {name} is __record_missing__: "
                        f"__record_required__(__record_class__, {name!r})"
                    )
            stores.append((name, name))
        elif spec.factory is not None:
            stores.append((name, f"{factory}()"))
        elif spec.default is not _MISSING:
            stores.append((name, default))
        # else: left for `__post_init__` to set, as in a dataclass
    if cls._frozen:
        # Straight into `__dict__`: `__setattr__` refuses, and `object.__setattr__` per field
        # costs a call each.
        body = [f" __record_values__ = {this}.__dict__"]
        body += [f" __record_values__[{name!r}] = {value}" for name, value in stores]
    else:
        body = [f" {this}.{name} = {value}" for name, value in stores]
    if hasattr(cls, "__post_init__"):
        body.append(f" {this}.__post_init__()")
    source = "\n".join(
        [f"def __init__({', '.join(parameters)}, *__record_extra__):", *checks, *body]
    )
    exec(source, namespace)
    init: Callable[..., None] = namespace["__init__"]
    # Python's own argument errors name the function by this (`Gpu.__init__() got an ...`).
    init.__qualname__ = f"{cls.__name__}.__init__"
    return init


def _missing_argument(cls: type, name: str) -> None:
    raise TypeError(f"{cls.__name__}.__init__() missing required argument: {name!r}")


def _too_many_arguments(cls: type[_RecordBase], extra: tuple[object, ...]) -> None:
    taken = len(cls.__match_args__) + 1
    raise TypeError(
        f"{cls.__name__}.__init__() takes {taken} positional arguments "
        f"but {taken + len(extra)} were given"
    )


class _RecordBase:
    """What `Record` and `MutableRecord` share: fields from annotations, methods from fields."""

    __slots__ = ()
    __match_args__: ClassVar[tuple[str, ...]] = ()
    _frozen: ClassVar[bool] = True
    #: Every field (inherited ones first), in order, with its options.
    _specs: ClassVar[dict[str, _Field]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__
        specs = dict(cls._specs)
        arguments, compared = [], []
        # The class's own annotations (`inspect.get_annotations` would import `inspect`).
        for name, annotation in own.get("__annotations__", {}).items():
            if _is_class_variable(annotation):
                continue
            if name not in own:
                specs[name] = _REQUIRED
            elif isinstance(own[name], _Field):
                specs[name] = own[name]
                delattr(cls, name)  # as a dataclass: no class attribute for a `field()`
            else:
                specs[name] = _Field(own[name])  # left on the class, as in a dataclass
        for name, spec in specs.items():
            if spec.init:
                arguments.append(name)
            if spec.compare:
                compared.append(name)
        required = [name for name in arguments if specs[name].required]
        if required and arguments.index(required[-1]) >= len(required):
            raise TypeError(f"non-default argument {required[-1]!r} follows default argument")
        # Few attributes set on the class: each assignment invalidates the type's caches, and
        # one to a special method also rewires its slot (a few µs each).
        cls._specs = specs
        cls.__match_args__ = tuple(arguments)  # type: ignore[misc]
        # As a dataclass: methods the class body defines stay; a body that defines `__eq__`
        # alone (Python then sets `__hash__` to None) still gets a field-wise hash if frozen.
        key = _values_key(tuple(compared))
        if "__init__" not in own:
            cls.__init__ = _generic_init(cls)  # type: ignore[method-assign]
        if "__eq__" not in own:
            cls.__eq__ = _eq_method(key)  # type: ignore[method-assign]
        if not cls._frozen:
            return  # unhashable: `MutableRecord.__hash__` is None
        if "__hash__" not in own or (own["__hash__"] is None and "__eq__" in own):
            cls.__hash__ = _hash_method(key)  # type: ignore[assignment,method-assign]

    def __repr__(self) -> str:
        values = self.__dict__
        shown = ", ".join(
            f"{name}={values[name]!r}" for name, spec in self._specs.items() if spec.repr
        )
        return f"{type(self).__qualname__}({shown})"

    if TYPE_CHECKING:
        # Each record class gets its own (`__init_subclass__`); declared for type checkers,
        # which then know that records define equality.
        def __eq__(self, other: object) -> bool: ...


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
class Record(_RecordBase):
    """Frozen record: annotated class attributes are the fields, in order; values are defaults."""

    __slots__ = ()

    def __setattr__(self, name: str, value: object) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")


@dataclass_transform(frozen_default=False, field_specifiers=(field,))
class MutableRecord(_RecordBase):
    """Record whose fields can be assigned; unhashable, as a mutable dataclass is."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]
    _frozen = False


def replace(record: R, **changes: Any) -> R:
    """A copy of `record` with some fields changed (`dataclasses.replace` for records)."""
    values = record.__dict__
    for name, spec in type(record)._specs.items():
        if not spec.init:
            if name in changes:
                raise ValueError(
                    f"field {name} is declared with init=False, it cannot be specified with "
                    "replace()"
                )
        elif name not in changes:
            changes[name] = values[name]
    return type(record)(**changes)


def field_names(record: _RecordBase | type[_RecordBase]) -> tuple[str, ...]:
    """The names of a record's (or record class's) fields, in order (`dataclasses.fields`)."""
    return tuple(record._specs)

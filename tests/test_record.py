"""`Record` behaves as a frozen dataclass with the same fields would, `MutableRecord` as a mutable
one; `dataclasses` is the oracle."""

from __future__ import annotations

import copy
import dataclasses
import functools
import pickle
from collections.abc import Callable, Mapping

import pytest

from wheelnext_jupyter.record import (
    COMPILE_AFTER,
    MutableRecord,
    Record,
    field,
    field_names,
    replace,
)


class Gpu(Record):
    """A record with a required field, plain defaults and a per-instance factory default."""

    index: int
    name: str | None = None
    uuids: tuple[str, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)

    kind = "gpu"  # unannotated: a class attribute, not a field


@dataclasses.dataclass(frozen=True)
class GpuDataclass:
    index: int
    name: str | None = None
    uuids: tuple[str, ...] = ()
    environment: Mapping[str, str] = dataclasses.field(default_factory=dict)


def test_fields_are_the_annotated_names_in_order() -> None:
    assert Gpu.__match_args__ == ("index", "name", "uuids", "environment")


def test_unannotated_class_attributes_are_not_fields() -> None:
    assert Gpu(1).kind == "gpu"
    with pytest.raises(TypeError, match="unexpected keyword argument 'kind'"):
        Gpu(1, kind="x")  # type: ignore[call-arg]


def test_repr_matches_dataclass_repr() -> None:
    ours = repr(Gpu(0, "A100", ("GPU-1",), {"A": "1"}))
    theirs = repr(GpuDataclass(0, "A100", ("GPU-1",), {"A": "1"}))
    assert ours.removeprefix("Gpu") == theirs.removeprefix("GpuDataclass")
    assert ours == "Gpu(index=0, name='A100', uuids=('GPU-1',), environment={'A': '1'})"


def test_positional_and_keyword_construction_give_equal_records() -> None:
    assert Gpu(3, "T4") == Gpu(name="T4", index=3)


def test_defaults_fill_missing_fields() -> None:
    gpu = Gpu(2)
    assert (gpu.name, gpu.uuids, gpu.environment) == (None, (), {})


def test_factory_default_is_fresh_per_instance() -> None:
    assert Gpu(0).environment is not Gpu(1).environment


def test_missing_required_field_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="missing required argument: 'index'"):
        Gpu()  # type: ignore[call-arg]


def test_too_many_positional_arguments_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="takes 5 positional arguments but 6 were given"):
        Gpu(0, "a", (), {}, "extra")  # type: ignore[call-arg]


def test_field_given_twice_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="multiple values for argument 'index'"):
        Gpu(0, index=1)  # type: ignore[misc]


def test_records_with_different_values_differ() -> None:
    assert Gpu(0, "A100") != Gpu(0, "H100")


def test_equal_records_hash_alike() -> None:
    class Device(Record):
        index: int
        name: str | None = None

    assert hash(Device(0, "A100")) == hash(Device(0, "A100"))
    assert len({Device(0, "A100"), Device(0, "A100"), Device(1)}) == 2


def test_record_holding_a_dict_is_unhashable_like_a_dataclass() -> None:
    with pytest.raises(TypeError, match="unhashable type: 'dict'"):
        hash(GpuDataclass(0))
    with pytest.raises(TypeError, match="unhashable type: 'dict'"):
        hash(Gpu(0))


def test_hash_is_the_hash_of_the_field_tuple_as_in_a_dataclass() -> None:
    @dataclasses.dataclass(frozen=True)
    class Pair:
        a: int
        b: str

    class PairRecord(Record):
        a: int
        b: str

    assert hash(PairRecord(1, "x")) == hash(Pair(1, "x")) == hash((1, "x"))


def test_records_of_different_classes_are_never_equal() -> None:
    class Other(Record):
        index: int
        name: str | None = None
        uuids: tuple[str, ...] = ()
        environment: Mapping[str, str] = field(default_factory=dict)

    assert Gpu(0) != Other(0)
    assert Gpu(0) != (0, None, (), {})


def test_assigning_a_field_raises_frozen_instance_error() -> None:
    gpu = Gpu(0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        gpu.name = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del gpu.name  # type: ignore[misc]
    assert gpu.name is None


def test_replace_changes_only_the_named_fields() -> None:
    gpu = Gpu(0, "A100", ("u",))
    assert replace(gpu, name="H100") == Gpu(0, "H100", ("u",))
    assert gpu.name == "A100"


def test_records_survive_pickle_and_deepcopy() -> None:
    gpu = Gpu(0, "A100", ("u",), {"K": "v"})
    assert pickle.loads(pickle.dumps(gpu)) == gpu
    assert copy.deepcopy(gpu) == gpu


def test_match_statement_binds_fields_positionally() -> None:
    match Gpu(4, "L4"):
        case Gpu(index, name):
            assert (index, name) == (4, "L4")
        case _:
            pytest.fail("a Gpu record did not match its own class pattern")


def test_subclass_adds_fields_after_the_inherited_ones() -> None:
    class Base(Record):
        a: int

    class Child(Base):
        b: str = "x"

    assert Child.__match_args__ == ("a", "b")
    assert repr(Child(1)).endswith(".Child(a=1, b='x')")


def test_required_field_after_a_default_is_rejected_at_class_creation() -> None:
    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):

        class Bad(Record):  # creating the class is the test
            a: int = 0
            b: str


def test_post_init_runs_after_the_fields_are_set() -> None:
    class Checked(Record):
        low: int
        high: int

        def __post_init__(self) -> None:
            if self.low > self.high:
                raise ValueError("low above high")

    assert Checked(1, 2).high == 2
    with pytest.raises(ValueError, match="low above high"):
        Checked(2, 1)


class Span(Record):
    """Fields with every option: a derived field, one left out of repr, one not compared."""

    start: int
    stop: int = field(default=10)
    length: int = field(init=False)
    note: str = field(default="", repr=False)
    cache: dict[int, bool] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "length", self.stop - self.start)


@dataclasses.dataclass(frozen=True)
class SpanDataclass:
    start: int
    stop: int = dataclasses.field(default=10)
    length: int = dataclasses.field(init=False)
    note: str = dataclasses.field(default="", repr=False)
    cache: dict[int, bool] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "length", self.stop - self.start)


def test_field_without_init_is_left_to_post_init_and_out_of_match_args() -> None:
    assert Span(2).length == 8
    assert Span.__match_args__ == ("start", "stop", "note", "cache")
    with pytest.raises(TypeError, match="unexpected keyword argument 'length'"):
        Span(2, length=3)  # type: ignore[call-arg]


def test_field_options_shape_repr_as_in_a_dataclass() -> None:
    assert repr(Span(2, 4, "n")).removeprefix("Span") == repr(
        SpanDataclass(2, 4, "n")
    ).removeprefix("SpanDataclass")


def test_field_not_compared_is_left_out_of_eq_and_hash() -> None:
    a, b = Span(1, cache={1: True}), Span(1)
    assert a == b
    assert hash(a) == hash(b) == hash(SpanDataclass(1, cache={1: True}))


def test_replace_recomputes_fields_without_init_and_refuses_to_set_them() -> None:
    assert replace(Span(2), stop=5).length == 3
    with pytest.raises(ValueError, match="length is declared with init=False"):
        replace(Span(2), length=1)


def test_field_names_lists_every_field_in_order() -> None:
    names = ("start", "stop", "length", "note", "cache")
    assert field_names(Span) == field_names(Span(1)) == names
    assert names == tuple(f.name for f in dataclasses.fields(SpanDataclass))


def test_one_field_record_compares_and_hashes_as_a_one_tuple() -> None:
    class One(Record):
        value: tuple[int, int]

    @dataclasses.dataclass(frozen=True)
    class OneDataclass:
        value: tuple[int, int]

    assert One((1, 2)) == One((1, 2))
    assert One((1, 2)) != One((2, 1))
    assert hash(One((1, 2))) == hash(OneDataclass((1, 2))) == hash(((1, 2),))


def test_record_without_compared_fields_equals_any_of_its_class() -> None:
    class Nothing(Record):
        note: str = field(default="", compare=False)

    assert Nothing("a") == Nothing("b")
    assert hash(Nothing("a")) == hash(())


def test_cached_property_value_does_not_change_eq_or_hash() -> None:
    class Box(Record):
        width: int
        height: int

        @functools.cached_property
        def area(self) -> int:
            return self.width * self.height

    computed, fresh = Box(2, 3), Box(2, 3)
    assert computed.area == 6
    assert computed == fresh
    assert hash(computed) == hash(fresh) == hash((2, 3))
    assert repr(computed).endswith("Box(width=2, height=3)")


def test_class_body_methods_are_kept() -> None:
    class Loose(Record):
        value: float

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Loose) and abs(self.value - other.value) < 0.5

        def __hash__(self) -> int:
            return 0

    assert Loose(1.0) == Loose(1.2)
    assert hash(Loose(1.0)) == 0


class Counter(MutableRecord):
    """A mutable record with a required field, a default and a factory default."""

    name: str
    count: int = 0
    seen: list[str] = field(default_factory=list)


@dataclasses.dataclass
class CounterDataclass:
    name: str
    count: int = 0
    seen: list[str] = dataclasses.field(default_factory=list)


def test_mutable_record_fields_can_be_assigned() -> None:
    counter = Counter("a")
    counter.count += 2
    counter.seen.append("x")
    assert counter == Counter("a", 2, ["x"])


def test_mutable_record_is_unhashable_like_a_mutable_dataclass() -> None:
    with pytest.raises(TypeError, match="unhashable type: 'CounterDataclass'"):
        hash(CounterDataclass("a"))
    with pytest.raises(TypeError, match="unhashable type: 'Counter'"):
        hash(Counter("a"))


def test_mutable_record_repr_defaults_and_replace_match_a_dataclass() -> None:
    ours, theirs = Counter("a", seen=["x"]), CounterDataclass("a", seen=["x"])
    assert repr(ours).removeprefix("Counter") == repr(theirs).removeprefix("CounterDataclass")
    assert Counter("b").seen is not Counter("b").seen
    assert replace(ours, count=3) == Counter("a", 3, ["x"])


def _compile(cls: Callable[..., object], *args: object, **kwargs: object) -> None:
    """Make instances of `cls` until it has compiled its own `__init__`."""
    generic = cls.__init__
    for _ in range(COMPILE_AFTER):
        cls(*args, **kwargs)
    assert cls.__init__ is not generic


def test_a_class_compiles_its_init_once_it_has_made_compile_after_instances() -> None:
    class Fresh(Record):
        index: int

    generic = Fresh.__init__
    for index in range(COMPILE_AFTER - 1):
        Fresh(index)
    assert Fresh.__init__ is generic
    Fresh(0)
    assert Fresh.__init__ is not generic


def _gpu_class() -> type[Gpu]:
    class LocalGpu(Gpu):
        pass

    return LocalGpu


def _span_class() -> type[Span]:
    class LocalSpan(Span):
        pass

    return LocalSpan


def _counter_class() -> type[Counter]:
    class LocalCounter(Counter):
        pass

    return LocalCounter


@pytest.mark.parametrize(
    ("make_class", "args", "kwargs"),
    [
        (_gpu_class, (0,), {}),
        (_gpu_class, (1, "A100", ("u",)), {"environment": {"K": "v"}}),
        (_gpu_class, (), {"name": "T4", "index": 3}),
        (_span_class, (2,), {"note": "n"}),
        (_span_class, (2, 7), {"cache": {1: True}}),
        (_counter_class, ("a",), {"seen": ["x"]}),
    ],
)
def test_compiled_init_builds_the_same_records_as_the_generic_one(
    make_class: Callable[[], Callable[..., Record | MutableRecord]],
    args: tuple[object, ...],
    kwargs: dict[str, object],
) -> None:
    cls = make_class()
    generic = cls(*args, **kwargs)
    _compile(cls, *args, **kwargs)
    compiled = cls(*args, **kwargs)
    assert compiled == generic
    assert repr(compiled) == repr(generic)
    assert list(compiled.__dict__.items()) == list(generic.__dict__.items())


def test_argument_errors_are_the_same_before_and_after_the_init_is_compiled() -> None:
    calls: list[tuple[tuple[object, ...], dict[str, object]]] = [
        ((), {}),
        ((0, "a", (), {}, "x"), {}),
        ((0,), {"index": 1}),
        ((0,), {"kind": "x"}),
    ]

    def errors(cls: Callable[..., object]) -> list[str]:
        messages = []
        for args, kwargs in calls:
            with pytest.raises(TypeError) as raised:
                cls(*args, **kwargs)
            messages.append(str(raised.value))
        return messages

    cls = _gpu_class()
    generic = errors(cls)
    _compile(cls, 0)
    assert (
        errors(cls)
        == generic
        == [
            "LocalGpu.__init__() missing required argument: 'index'",
            "LocalGpu.__init__() takes 5 positional arguments but 6 were given",
            "LocalGpu.__init__() got multiple values for argument 'index'",
            "LocalGpu.__init__() got an unexpected keyword argument 'kind'",
        ]
    )


def test_subclass_made_after_its_base_compiled_its_init_takes_its_own_fields() -> None:
    class Base(Record):
        a: int

    _compile(Base, 1)

    class Child(Base):
        b: str = "x"

    assert Child(1, "y").__dict__ == {"a": 1, "b": "y"}

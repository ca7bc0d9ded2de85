"""`Record` behaves as a frozen dataclass with the same fields would; `dataclasses` is the oracle."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from collections.abc import Mapping

import pytest

from wheelnext_jupyter.record import Record, field, replace


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
